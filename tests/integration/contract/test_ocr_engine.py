"""OcrEngine contract: a printed page's lines in reading order, with boxes, scores and the page number.

Textract is left out: it needs its HTTP protocol fake and is tested in ``test_aws_textract.py``.
"""

from __future__ import annotations

import io
from itertools import pairwise

from PIL import Image

from backend.evals.ocr import normalise
from tests.helpers.prescriptions import png_bytes, prescription_text, render_prescription
from tests.integration.contract.conftest import OcrUnderTest

SAME_ROW_PX = 15
LINES = ["1. Tab. Metformin 500 mg BD x 30 days", "2. Tab. Amlodipine 5 mg OD x 30 days"]


def _page() -> tuple[bytes, list[str]]:
    return png_bytes(render_prescription(LINES)), prescription_text(LINES).splitlines()


def test_a_printed_page_is_read_line_by_line_top_to_bottom(ocr: OcrUnderTest) -> None:
    image, truth = _page()
    ocr.show(image, truth)
    lines = ocr.engine.read_image(image, page=2)
    text = normalise(" ".join(line.text for line in lines)).lower()
    assert "metformin 500 mg" in text and "amlodipine 5 mg" in text
    assert text.index("metformin") < text.index("amlodipine")  # reading order
    assert {line.page for line in lines} == {2}
    assert all(0.0 < line.score <= 1.0 and len(line.box) >= 4 for line in lines)
    tops = [min(y for _, y in line.box) for line in lines]
    # Rows top to bottom; pieces of one row (left to right) may sit a few pixels higher than the one before.
    assert all(below >= above - SAME_ROW_PX for above, below in pairwise(tops))


def test_a_blank_page_has_no_lines(ocr: OcrUnderTest) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(blank, format="PNG")
    assert ocr.engine.read_image(blank.getvalue()) == []
