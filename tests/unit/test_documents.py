"""Document intake: type by content, every bad-input case, EXIF orientation, TIFF/PDF pages, PDF text layer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from backend.domain.errors import UnsupportedInput
from backend.formats.documents import (
    MAX_LONG_SIDE,
    PageImage,
    PageText,
    detect_kind,
    load_document,
    ocr_document,
    prepare_page,
)
from tests.helpers.prescriptions import encrypted_pdf, image_pdf, jpeg_bytes, merge_pdfs, text_pdf


def _image(size: tuple[int, int] = (120, 80), color: str = "white") -> Image.Image:
    return Image.new("RGB", size, color)


def _rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def _encoded(fmt: str, image: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (image or _image()).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "kind"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tiff")])
def test_image_types_are_detected_by_content(fmt: str, kind: str) -> None:
    data = _encoded(fmt)
    assert detect_kind(data) == kind
    # The name lies; the content decides.
    pages = load_document(data, filename="scan.pdf")
    assert len(pages) == 1 and isinstance(pages[0], PageImage)
    assert pages[0].image.size == (120, 80) and pages[0].image.mode == "RGB"


def test_pdf_is_detected_even_after_leading_junk() -> None:
    assert detect_kind(b"\r\n junk " + text_pdf([["hello"]])) == "pdf"


def test_empty_file_is_refused() -> None:
    with pytest.raises(UnsupportedInput, match="empty"):
        load_document(b"", "x.jpg")


@pytest.mark.parametrize("data", [b"hello, this is plain text", b"PK\x03\x04zipfile....", _encoded("GIF")])
def test_other_types_are_refused_with_the_accepted_list(data: bytes) -> None:
    with pytest.raises(UnsupportedInput, match="JPEG, PNG, WebP or TIFF image, or a PDF"):
        load_document(data, "notes.jpg")


def test_heic_is_refused_with_the_export_hint() -> None:
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(UnsupportedInput, match=r"HEIC.*Export it as JPEG"):
        load_document(heic_header, "IMG_0001.HEIC")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_reported_damaged(fmt: str) -> None:
    data = _encoded(fmt, Image.effect_noise((400, 400), 60).convert("RGB"))
    with pytest.raises(
        UnsupportedInput, match=f"looks like a {'PNG' if fmt == 'PNG' else 'JPEG'} image but is damaged"
    ):
        load_document(data[: len(data) // 2], "photo")


def test_garbage_after_a_valid_header_is_reported_damaged() -> None:
    with pytest.raises(UnsupportedInput, match="damaged"):
        load_document(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, "photo.png")


def test_too_many_bytes_is_refused_before_parsing() -> None:
    data = _encoded("PNG", Image.effect_noise((300, 300), 60).convert("RGB"))
    with pytest.raises(UnsupportedInput, match=r"MB; the limit is 0 MB"):
        load_document(data, "big.png", max_bytes=1000)


def test_decompression_bomb_is_refused_from_the_header() -> None:
    # 60 megapixels of a blank bilevel image: a few kB on disk, 180 MB once decoded as RGB.
    bomb = _encoded("PNG", Image.new("1", (10_000, 6_000), 1))
    assert len(bomb) < 100_000
    with pytest.raises(UnsupportedInput, match=r"10000x6000 pixels \(60 MP\); the limit is 50 MP"):
        load_document(bomb, "bomb.png")


def test_pixel_limit_is_a_parameter() -> None:
    with pytest.raises(UnsupportedInput, match="the limit is 0 MP"):
        load_document(_encoded("PNG"), "small.png", max_pixels=5_000)


def test_exif_orientation_is_applied() -> None:
    # Stored landscape with a red band on the left; orientation 6 means "turn 90 deg clockwise to view",
    # so the band must end up along the top of a portrait page.
    stored = _image((300, 100))
    ImageDraw.Draw(stored).rectangle((0, 0, 29, 99), fill="red")
    (page,) = load_document(jpeg_bytes(stored, orientation=6), "phone.jpg")
    assert isinstance(page, PageImage)
    assert page.image.size == (100, 300)
    top, bottom = _rgb(page.image, (50, 5)), _rgb(page.image, (50, 295))
    assert top[0] > 200 and top[1] < 80  # red
    assert min(bottom) > 200  # white


def test_multi_frame_tiff_gives_one_page_per_frame() -> None:
    frames = [_image(color=c) for c in ("white", "black", "gray")]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    pages = load_document(out.getvalue(), "fax.tiff")
    assert [p.index for p in pages] == [0, 1, 2]
    assert [p.image.getpixel((5, 5)) for p in pages if isinstance(p, PageImage)] == [
        (255, 255, 255),
        (0, 0, 0),
        (128, 128, 128),
    ]
    with pytest.raises(UnsupportedInput, match="has 3 pages; the limit is 2"):
        load_document(out.getvalue(), "fax.tiff", max_pages=2)


def test_pages_are_prepared_upright_rgb_on_white_and_capped() -> None:
    transparent = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    ImageDraw.Draw(transparent).rectangle((10, 10, 20, 20), fill=(0, 0, 0, 255))
    prepared = prepare_page(transparent)
    assert prepared.getpixel((2, 2)) == (255, 255, 255) and prepared.getpixel((15, 15)) == (0, 0, 0)

    sixteen_bit = Image.fromarray(np.array([[1000, 3000]], dtype=np.uint16))
    assert _rgb(prepare_page(sixteen_bit), (0, 0)) == (0, 0, 0)
    assert _rgb(prepare_page(sixteen_bit), (1, 0)) == (255, 255, 255)

    big = prepare_page(_image((5000, 2500)))
    assert big.size == (MAX_LONG_SIDE, MAX_LONG_SIDE // 2)


def test_text_layer_pdf_pages_are_read_without_ocr() -> None:
    data = text_pdf([["Dr. A. Menon", "Tab. Metformin 500 mg BD x 30 days"], ["Page two: Tab. Amlodipine 5 mg OD"]])
    pages = load_document(data, "letter.pdf")
    assert all(isinstance(p, PageText) for p in pages)
    first, second = pages
    assert isinstance(first, PageText) and isinstance(second, PageText)
    assert first.text.splitlines() == ["Dr. A. Menon", "Tab. Metformin 500 mg BD x 30 days"]
    assert second.text == "Page two: Tab. Amlodipine 5 mg OD"
    # Boxes are in preview pixels, top to bottom, inside the page.
    width, height = first.preview.size
    (x0, y0), _, (x1, y1), _ = first.lines[1].box
    assert 0 <= x0 < x1 <= width and first.lines[0].box[0][1] < y0 < y1 < height * 0.3
    assert second.lines[0].page == 1


def test_pdf_without_text_layer_is_rendered_at_about_200_dpi() -> None:
    scan = image_pdf([_image((1654, 2339)), _image((1654, 2339), "black")], dpi=200)  # A4 at 200 dpi
    pages = load_document(scan, "scan.pdf")
    assert [type(p) for p in pages] == [PageImage, PageImage]
    first = pages[0]
    assert isinstance(first, PageImage) and first.source == "pdf-render"
    assert max(first.image.size) == MAX_LONG_SIDE  # 2339 px at 200 dpi, capped
    assert abs(first.image.size[0] / first.image.size[1] - 1654 / 2339) < 0.01


def test_pdf_over_the_page_limit_names_count_and_limit() -> None:
    data = text_pdf([[f"page {i} of a long discharge summary"] for i in range(21)])
    with pytest.raises(UnsupportedInput, match="PDF with 21 pages; the limit is 20"):
        load_document(data, "summary.pdf")


def test_encrypted_pdf_is_refused() -> None:
    with pytest.raises(UnsupportedInput, match="password-protected PDF"):
        load_document(encrypted_pdf(), "locked.pdf")


def test_damaged_pdf_is_refused() -> None:
    with pytest.raises(UnsupportedInput, match="damaged or incomplete PDF"):
        load_document(b"%PDF-1.7\n1 0 obj << /Type /Catalog", "broken.pdf")


class _NoEngine:
    """An OCR engine that must not be needed: text-layer pages never reach OCR."""

    name = "none"

    def read_image(self, image_bytes: bytes, page: int = 0) -> list:
        raise AssertionError("a text-layer page was sent to OCR")


def test_ocr_document_keeps_text_layer_pages_as_they_are() -> None:
    data = merge_pdfs(text_pdf([["Rx", "Tab. Metformin 500 mg BD"]]), text_pdf([["Advice: walk daily and rest"]]))
    document = ocr_document(load_document(data, "two.pdf"), _NoEngine())
    assert [p.source for p in document.pages] == ["text-layer", "text-layer"]
    assert document.full_text == "Rx\nTab. Metformin 500 mg BD\n\nAdvice: walk daily and rest"
    assert document.pages[0].image_preview.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(document.pages[0].image_preview)) as preview:
        assert preview.size == document.pages[0].size
