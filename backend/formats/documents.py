"""Document intake: uploaded bytes -> upright page images (to OCR) or page text (PDF text layer).

The type is decided by the content's first bytes, never by the file name. Every expected problem becomes
an :class:`UnsupportedInput` whose message names it and the fix: empty or oversized files, unknown types,
HEIC, damaged images, images too large to decode safely (decompression bombs), PDFs over the page limit
and password-protected PDFs. Pixel counts are checked from the header, before any pixel is decoded.

PDF pages that carry a text layer are read directly (exact text, positions of each text run); pages
without one (scans) are rendered at about 200 dpi for OCR.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from backend.domain.errors import UnsupportedInput
from backend.domain.limits import DEFAULT_LIMITS
from backend.formats.reading_order import reading_order
from backend.ports import OcrEngine, OcrLine

DEFAULT_MAX_BYTES = DEFAULT_LIMITS.max_document_bytes  # callers pass the app's Limits; these serve the CLI and tests
DEFAULT_MAX_PAGES = DEFAULT_LIMITS.max_document_pages
DEFAULT_MAX_PIXELS = 50_000_000
RENDER_DPI = 200
MAX_LONG_SIDE = 2000  # rapidocr shrinks anything larger to 2000 px itself: don't carry the extra pixels around
PREVIEW_LONG_SIDE = 1000
MIN_TEXT_LAYER_CHARS = 16  # fewer characters than this (a scanner's stamp) means the page is an image
Kind = Literal["jpeg", "png", "webp", "tiff", "pdf"]
MIME_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
}
_ACCEPTED = "a JPEG, PNG, WebP or TIFF image, or a PDF"
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"avif"}
# pdfium is not thread-safe: one document operation at a time in this process.
_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class PageImage:
    """A page to OCR: upright, RGB, long side at most ``MAX_LONG_SIDE``."""

    index: int
    image: Image.Image
    source: Literal["image", "pdf-render"] = "image"


@dataclass(frozen=True)
class PageText:
    """A PDF page read from its text layer. Boxes are pixels of ``preview`` (top-left origin)."""

    index: int
    text: str
    lines: tuple[OcrLine, ...]
    preview: Image.Image


def detect_kind(data: bytes) -> Kind:
    """The document type from the content's magic bytes.

    Raises:
        UnsupportedInput: empty input, HEIC/AVIF, or anything that is not an accepted type.
    """
    if not data:
        raise UnsupportedInput("The file is empty (0 bytes). Choose the photo or PDF again and re-upload it.")
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if b"%PDF-" in data[:1024]:  # the spec tolerates junk before the header; pdfium does too
        return "pdf"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise UnsupportedInput(
            "This is a HEIC/HEIF photo (the iPhone default), which cannot be read here. "
            "Export it as JPEG (or set the camera to 'Most Compatible') and upload again."
        )
    raise UnsupportedInput(
        f"This file is not {_ACCEPTED}. Upload a photo or scan of the document in one of those formats."
    )


def load_document(
    data: bytes,
    filename: str = "",
    max_pages: int = DEFAULT_MAX_PAGES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[PageImage | PageText]:
    """Validate an uploaded document and split it into pages.

    Args:
        data: the file's bytes.
        filename: used only in messages; the type comes from the content.
        max_pages: more pages (PDF pages, TIFF frames) than this are refused.
        max_pixels: an image (or frame) with more pixels than this is refused before decoding.
        max_bytes: a larger file is refused before parsing.

    Returns:
        One entry per page, in order: :class:`PageText` for PDF pages with a text layer,
        :class:`PageImage` for everything to OCR.

    Raises:
        UnsupportedInput: with a message that names the problem and the fix.
    """
    name = f"'{filename}'" if filename else "This file"
    if len(data) > max_bytes:
        raise UnsupportedInput(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            "Upload a smaller photo or split the PDF."
        )
    kind = detect_kind(data)
    if kind == "pdf":
        with _PDFIUM_LOCK:
            return _read_pdf(data, name, max_pages)
    return _load_image(data, kind, name, max_pages, max_pixels)


def _load_image(data: bytes, kind: Kind, name: str, max_pages: int, max_pixels: int) -> list[PageImage | PageText]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind.upper()])
            frames = getattr(image, "n_frames", 1) if kind == "tiff" else 1
            if frames > max_pages:
                raise UnsupportedInput(
                    f"{name} has {frames} pages; the limit is {max_pages}. Split it and upload the parts."
                )
            pages: list[PageImage | PageText] = []
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= frames:
                    break
                _check_pixels(frame.size, name, max_pixels)
                pages.append(PageImage(index, prepare_page(frame)))
            return pages
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise UnsupportedInput(
            f"{name} is too large an image to open safely. Resize it below {max_pixels / 1e6:.0f} megapixels."
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        # Pillow reports truncated or damaged files with any of these.
        raise UnsupportedInput(
            f"{name} looks like a {kind.upper()} image but is damaged or incomplete. "
            "Take the photo again or re-export it."
        ) from e


def _check_pixels(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise UnsupportedInput(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
            f"the limit is {max_pixels / 1e6:.0f} MP. "
            "Resize the photo and upload it again."
        )


def prepare_page(image: Image.Image, max_long_side: int = MAX_LONG_SIDE) -> Image.Image:
    """Upright (EXIF orientation applied), 8-bit RGB on white, long side capped; the image is fully decoded."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        # Transparent pixels often hold black: put the page on white, as it would be printed.
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    elif upright.mode.startswith(("I", "F")):
        # 16/32-bit scans: stretch their own range to 8 bits (a plain convert would clip to white).
        values = np.asarray(upright, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        upright = Image.fromarray(((values - low) * (255.0 / max(high - low, 1e-6))).astype(np.uint8))
    rgb = upright.convert("RGB")
    if max(rgb.size) > max_long_side:
        rgb.thumbnail((max_long_side, max_long_side), Image.Resampling.LANCZOS)
    return rgb


def _read_pdf(data: bytes, name: str, max_pages: int) -> list[PageImage | PageText]:
    import pypdfium2 as pdfium  # only when a PDF arrives
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if e.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise UnsupportedInput(
                f"{name} is a password-protected PDF. "
                "Open it, save or print it as a PDF without a password, and upload that."
            ) from e
        raise UnsupportedInput(
            f"{name} is a damaged or incomplete PDF. Download or export it again and re-upload."
        ) from e
    try:
        count = len(pdf)
        if count == 0:
            raise UnsupportedInput(f"{name} is a PDF without pages. Export the document again.")
        if count > max_pages:
            raise UnsupportedInput(
                f"{name} is a PDF with {count} pages; the limit is {max_pages}. Split it and upload the parts."
            )
        pages: list[PageImage | PageText] = []
        for index in range(count):
            page = pdf[index]
            try:
                pages.append(_pdf_page(page, index))
            finally:
                page.close()
        return pages
    except pdfium.PdfiumError as e:
        raise UnsupportedInput(
            f"{name} is a damaged PDF (a page could not be read). Export it again and re-upload."
        ) from e
    finally:
        pdf.close()


def _pdf_page(page: object, index: int) -> PageImage | PageText:
    width, height = page.get_size()  # type: ignore[attr-defined]
    # Scale so the long side stays within MAX_LONG_SIDE: a poster-sized page cannot become a pixel bomb.
    scale = min(RENDER_DPI / 72, MAX_LONG_SIDE / max(width, height, 1.0))
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        raw = textpage.get_text_range() if textpage.count_chars() > 0 else ""
        if len("".join(raw.split())) < MIN_TEXT_LAYER_CHARS:
            bitmap = page.render(scale=scale)  # type: ignore[attr-defined]
            return PageImage(index, prepare_page(bitmap.to_pil()), source="pdf-render")
        preview_scale = min(scale, PREVIEW_LONG_SIDE / max(width, height, 1.0))
        left, _, _, top = page.get_bbox()  # type: ignore[attr-defined]
        runs: list[tuple[tuple[tuple[float, float], ...], str, float]] = []
        for i in range(textpage.count_rects()):
            x0, y0, x1, y1 = textpage.get_rect(i)
            text = textpage.get_text_bounded(x0, y0, x1, y1).strip()
            if text:
                # PDF space has its origin bottom-left; pixels top-left.
                px0, px1 = (x0 - left) * preview_scale, (x1 - left) * preview_scale
                py0, py1 = (top - y1) * preview_scale, (top - y0) * preview_scale
                runs.append((((px0, py0), (px1, py0), (px1, py1), (px0, py1)), text, 1.0))
        lines = tuple(reading_order(runs, index))
        preview = page.render(scale=preview_scale).to_pil().convert("RGB")  # type: ignore[attr-defined]
        return PageText(index, "\n".join(line.text for line in lines), lines, preview)
    finally:
        textpage.close()


@dataclass(frozen=True)
class PageResult:
    """The text of one page.

    ``lines`` boxes are pixels of an image of ``size``; ``image_preview`` is that page, smaller (long side
    ``PREVIEW_LONG_SIDE``), as PNG for rendered PDF pages and JPEG for photos (a PNG of a noisy photo is
    ten times larger and slower to write). Both formats display as they are (``st.image`` takes the bytes).
    """

    index: int
    lines: tuple[OcrLine, ...]
    text: str
    source: Literal["text-layer", "ocr"]
    size: tuple[int, int]
    image_preview: bytes
    seconds: float = 0.0


@dataclass(frozen=True)
class DocumentText:
    pages: tuple[PageResult, ...]
    full_text: str


def ocr_document(pages: list[PageImage | PageText], engine: OcrEngine) -> DocumentText:
    """Text of every page: text-layer pages as they are, image pages through ``engine``.

    Args:
        pages: the output of :func:`load_document`.
        engine: any :class:`backend.ports.OcrEngine`. It receives each page as PNG bytes, or as the PIL
            image itself when it declares ``accepts_images = True`` (saves encoding and decoding a page).

    Returns:
        Pages in order; ``full_text`` joins page texts with a blank line.
    """
    results = []
    for page in pages:
        started = time.perf_counter()
        if isinstance(page, PageText):
            preview = _encode(page.preview, "PNG")
            results.append(PageResult(page.index, page.lines, page.text, "text-layer", page.preview.size, preview))
            continue
        source = page.image if getattr(engine, "accepts_images", False) else _encode(page.image, "PNG", fast=True)
        lines = tuple(engine.read_image(source, page=page.index))  # type: ignore[arg-type]
        small = page.image.copy()
        small.thumbnail((PREVIEW_LONG_SIDE, PREVIEW_LONG_SIDE), Image.Resampling.BILINEAR)
        preview = _encode(small, "PNG" if page.source == "pdf-render" else "JPEG")
        text = "\n".join(line.text for line in lines)
        seconds = time.perf_counter() - started
        results.append(PageResult(page.index, lines, text, "ocr", page.image.size, preview, seconds))
    return DocumentText(tuple(results), "\n\n".join(r.text for r in results if r.text))


def _encode(image: Image.Image, fmt: Literal["PNG", "JPEG"], fast: bool = False) -> bytes:
    out = io.BytesIO()
    if fmt == "PNG":
        # Lossless: an engine must see exactly the pixels we prepared.
        image.save(out, format="PNG", compress_level=1 if fast else 6)
    else:
        image.save(out, format="JPEG", quality=80)
    return out.getvalue()
