"""Test documents: printed prescription images (re-exported from the eval generator) and small PDFs.

- :func:`render_prescription`, :func:`prescription_text`, :func:`random_medication_lines`: see
  ``backend.evals._prescription_images``.
- :func:`image_pdf`: pages that are only pictures (a scan; no text layer), written by Pillow.
- :func:`text_pdf`: pages with a real text layer (Helvetica), written by hand: tiny and valid.
- :func:`encrypted_pdf`: a PDF whose trailer names a standard-security /Encrypt dictionary with a user
  password, so readers must refuse it without the password.
- :func:`png_bytes`, :func:`jpeg_bytes`: encode an image, optionally with an EXIF orientation tag.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from backend.evals._prescription_images import (
    MEDICATION_LINES,
    PAGE_SIZE,
    degrade_to_jpeg,
    prescription_text,
    random_medication_lines,
    render_prescription,
)

__all__ = [
    "MEDICATION_LINES",
    "PAGE_SIZE",
    "degrade_to_jpeg",
    "encrypted_pdf",
    "image_pdf",
    "jpeg_bytes",
    "merge_pdfs",
    "png_bytes",
    "prescription_text",
    "random_medication_lines",
    "render_prescription",
    "text_pdf",
]

EXIF_ORIENTATION = 0x0112


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 90, orientation: int | None = None) -> bytes:
    """JPEG bytes; ``orientation`` (1-8) is written as the EXIF Orientation tag."""
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    image.convert("RGB").save(out, format="JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def image_pdf(images: Sequence[Image.Image], dpi: int = 200) -> bytes:
    """A PDF with one full-page picture per image and no text layer (what a scanner app produces)."""
    out = io.BytesIO()
    first, *rest = [im.convert("RGB") for im in images]
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=dpi)
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _assemble(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """Number ``objects`` 1..n, write them with a correct xref table; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def text_pdf(pages: Sequence[Sequence[str]], font_size: int = 14) -> bytes:
    """An A4 PDF whose pages carry ``pages[i]`` as real text lines (standard Helvetica, no embedding)."""
    count = len(pages)
    # 1 catalog, 2 pages tree, 3 font, then (page, content) per page.
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        ops = [b"BT", b"/F1 %d Tf" % font_size, b"%d TL" % int(font_size * 1.6), b"60 780 Td"]
        for line in lines:
            ops.append(b"(%s) Tj T*" % _escape(line).encode("cp1252"))
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return _assemble(objects)


def encrypted_pdf() -> bytes:
    """A one-page PDF that declares RC4 40-bit standard security with a non-empty user password."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        # /O and /U are 32 arbitrary bytes: no password, the empty one included, reproduces /U.
        b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <%s> /U <%s> >>" % (b"ab" * 32, b"cd" * 32),
    ]
    return _assemble(
        objects, b"/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] "
    )


def merge_pdfs(*pdfs: bytes) -> bytes:
    """One PDF with the pages of ``pdfs`` in order (pdfium copies the pages as they are)."""
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    for data in pdfs:
        merged.import_pages(pdfium.PdfDocument(data))
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()
