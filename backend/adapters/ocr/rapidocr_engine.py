"""Offline OCR with rapidocr 3.x (PP-OCR models shipped inside the wheel, run by onnxruntime).

The engine loads lazily on the first page and then stays in memory (~700 MB peak): build one
:class:`RapidOcrEngine` per process (:func:`shared_engine` does that). Calls are serialised by a lock:
on a small CPU two pages at once are not faster, only twice the memory.

rapidocr returns one box per detected text run; :func:`backend.formats.reading_order.reading_order` turns them
into lines the way a person reads them.
"""

from __future__ import annotations

import io
import os
import threading
import time
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from backend.domain.errors import ProviderUnavailable, UnsupportedInput
from backend.formats.reading_order import reading_order
from backend.ports import OcrLine

DET_MAX_SIDE = 1280


class RapidOcrEngine:
    """:class:`backend.ports.OcrEngine` over rapidocr; models load on first use.

    Args:
        threads: onnxruntime intra-op threads; defaults to the number of cores.
        text_score: runs recognised with a lower confidence are dropped.
        det_max_side: text detection runs on a copy whose long side is at most this many pixels.
        ocr: an already built ``rapidocr.RapidOCR`` (tests, or a caller that shares one).
    """

    name = "rapidocr"
    accepts_images = True  # read_image takes PIL images as well as bytes (see documents.ocr_document)

    def __init__(
        self, threads: int | None = None, text_score: float = 0.5, det_max_side: int = DET_MAX_SIDE, ocr: Any = None
    ) -> None:
        self._threads = threads or os.cpu_count() or 1
        self._det_max_side = det_max_side
        self._text_score = text_score
        self._ocr = ocr
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    def load(self) -> Any:
        """Build the rapidocr pipeline and its three onnx sessions, once. Returns the pipeline."""
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> Any:
        if self._ocr is not None:
            return self._ocr
        started = time.perf_counter()
        try:
            from rapidocr import RapidOCR  # heavy import (onnxruntime, cv2): only when OCR is used

            params = {
                "Global.log_level": "warning",
                "Global.text_score": self._text_score,
                "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                # Find text on a smaller copy (detection cost grows with pixels); rapidocr still crops
                # each line from the full image, so recognition keeps every pixel.
                "Det.limit_type": "max",
                "Det.limit_side_len": self._det_max_side,
            }
            ocr = RapidOCR(params=params)
            # Sessions are created lazily by rapidocr; create them now so load time is paid here, once.
            ocr._load_det_model()
            ocr._load_cls_model()
            ocr._load_rec_model()
        except Exception as e:  # an unusable install must say so, not fail deep inside a request
            raise ProviderUnavailable(
                f"The offline OCR engine could not start ({e}). Reinstall the requirements."
            ) from e
        self._ocr = ocr
        self.load_seconds = time.perf_counter() - started
        return ocr

    def read_image(self, image_bytes: bytes | Image.Image | np.ndarray, page: int = 0) -> list[OcrLine]:
        """Recognise the text of one page image.

        Args:
            image_bytes: encoded image bytes (PNG/JPEG...), a PIL image, or an RGB ``uint8`` array.
            page: page number stamped on every line.

        Returns:
            Lines in reading order; boxes are polygons in pixel coordinates of the given image.
        """
        image = _as_pil(image_bytes)
        with self._lock:
            ocr = self._load_locked()
            try:
                result = ocr(image)
            except Exception as e:
                raise ProviderUnavailable(f"The offline OCR engine failed on page {page + 1} ({e}).") from e
        if result.boxes is None or result.txts is None:
            return []
        runs = [
            (tuple((float(x), float(y)) for x, y in box), str(text), float(score))
            for box, text, score in zip(result.boxes.tolist(), result.txts, result.scores or (), strict=False)
            if str(text).strip()
        ]
        return reading_order(runs, page)


def _as_pil(image: bytes | Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        pil = image
    elif isinstance(image, np.ndarray):
        pil = Image.fromarray(image)
    else:
        try:
            pil = Image.open(io.BytesIO(image))
            pil.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
            raise UnsupportedInput("This page could not be read as an image. Upload a JPEG, PNG or PDF.") from e
    return pil if pil.mode in ("RGB", "L") else pil.convert("RGB")


@cache
def shared_engine() -> RapidOcrEngine:
    """The process-wide engine (models load on its first page)."""
    return RapidOcrEngine()
