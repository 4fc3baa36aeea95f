"""An OCR engine that reads back the pages it was shown: image bytes -> their text lines.

Lines come top to bottom, each with a box of its own (one line height apart) and a score, like the real
engines; an image it was never shown reads as a blank page (no lines), as a blank scan does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from backend.ports import OcrLine

LINE_HEIGHT = 40.0
PAGE_WIDTH = 1000.0


class FakeOcr:
    name = "fake-ocr"

    def __init__(self) -> None:
        self._pages: dict[str, list[str]] = {}

    def show(self, image_bytes: bytes, lines: Sequence[str]) -> None:
        """Say what ``image_bytes`` shows, line by line."""
        self._pages[hashlib.sha256(image_bytes).hexdigest()] = list(lines)

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        lines = self._pages.get(hashlib.sha256(image_bytes).hexdigest(), [])
        return [
            OcrLine(
                text=text,
                box=((0.0, y), (PAGE_WIDTH, y), (PAGE_WIDTH, y + LINE_HEIGHT), (0.0, y + LINE_HEIGHT)),
                score=0.99,
                page=page,
            )
            for y, text in ((i * LINE_HEIGHT, t) for i, t in enumerate(lines))
        ]
