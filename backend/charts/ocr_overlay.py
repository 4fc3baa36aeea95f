"""Draw where medications were read on a page preview (Pillow only)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def outline_boxes(
    preview_png: bytes, page_size: tuple[int, int], boxes: list[tuple[tuple[float, float], ...]]
) -> bytes:
    """The preview with each box (in page pixels) outlined; returns PNG bytes."""
    image = Image.open(io.BytesIO(preview_png)).convert("RGB")
    sx, sy = image.width / max(page_size[0], 1), image.height / max(page_size[1], 1)
    draw = ImageDraw.Draw(image)
    for box in boxes:
        if len(box) >= 3:
            draw.polygon([(x * sx, y * sy) for x, y in box], outline=(15, 118, 110), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
