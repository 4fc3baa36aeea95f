"""The real offline OCR path: rapidocr on generated printed prescriptions, photos and PDFs."""

from __future__ import annotations

import random
from pathlib import Path

import jiwer
import pytest
from PIL import Image

from backend.adapters.ocr.rapidocr_engine import RapidOcrEngine, shared_engine
from backend.evals.ocr import TARGET_CER_CLEAN, TARGET_CER_DEGRADED, evaluate_folder, normalise
from backend.formats.documents import PageImage, load_document, ocr_document
from tests.helpers.prescriptions import (
    MEDICATION_LINES,
    degrade_to_jpeg,
    image_pdf,
    jpeg_bytes,
    merge_pdfs,
    png_bytes,
    prescription_text,
    render_prescription,
    text_pdf,
)

METFORMIN = "Tab. Metformin 500 mg BD x 30 days"


@pytest.fixture(scope="session")
def engine() -> RapidOcrEngine:
    # The process-wide engine: models load once for every test that reads images.
    return shared_engine()


def _lines(seed: int) -> list[str]:
    """Metformin first, then three other medication lines, numbered."""
    others = random.Random(seed).sample([m for m in MEDICATION_LINES if "Metformin" not in m], 3)
    return [f"{i}. {line}" for i, line in enumerate([METFORMIN, *others], start=1)]


def _cer(truth: str, text: str) -> float:
    return float(jiwer.cer(normalise(truth), normalise(text)))


@pytest.mark.parametrize("seed", [11, 12])
def test_clean_prescription_is_read_almost_exactly(engine: RapidOcrEngine, seed: int) -> None:
    lines = _lines(seed)
    image = render_prescription(lines, seed=seed)
    document = ocr_document(load_document(png_bytes(image), "rx.png"), engine)
    assert _cer(prescription_text(lines, seed), document.full_text) <= TARGET_CER_CLEAN
    assert "Metformin 500 mg" in document.full_text
    page = document.pages[0]
    assert page.source == "ocr" and page.size == image.size
    # Lines come in reading order with boxes on the page: "Rx" above the first medication.
    texts = [line.text for line in page.lines]
    rx, metformin = texts.index("Rx"), next(i for i, t in enumerate(texts) if "Metformin" in t)
    assert rx < metformin and page.lines[rx].box[0][1] < page.lines[metformin].box[0][1]
    assert all(0.5 <= line.score <= 1.0 for line in page.lines)


@pytest.mark.parametrize("seed", [21, 22])
def test_degraded_phone_photo_stays_within_target(engine: RapidOcrEngine, seed: int) -> None:
    lines = _lines(seed)
    photo = degrade_to_jpeg(render_prescription(lines, seed=seed), seed=seed)
    document = ocr_document(load_document(photo, "photo.jpg"), engine)
    assert _cer(prescription_text(lines, seed), document.full_text) <= TARGET_CER_DEGRADED
    assert "Metformin 500 mg" in document.full_text
    assert document.pages[0].image_preview.startswith(b"\xff\xd8")  # photos preview as JPEG


def test_photo_stored_sideways_with_exif_orientation_is_read_upright(engine: RapidOcrEngine) -> None:
    lines = _lines(31)
    upright = render_prescription(lines, seed=31)
    # A phone stores the sensor's landscape pixels and an Orientation tag (6: turn 90 deg clockwise to view).
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    document = ocr_document(load_document(jpeg_bytes(stored, orientation=6), "IMG_2041.jpg"), engine)
    assert "Metformin 500 mg" in document.full_text
    assert _cer(prescription_text(lines, 31), document.full_text) <= TARGET_CER_CLEAN


def test_engine_accepts_encoded_bytes_as_the_port_says(engine: RapidOcrEngine) -> None:
    image = render_prescription([f"1. {METFORMIN}"], seed=41).crop((0, 400, 1500, 800))
    lines = engine.read_image(png_bytes(image), page=3)
    assert any("Metformin 500 mg" in line.text for line in lines)
    assert {line.page for line in lines} == {3}


def test_multi_page_pdf_mixes_text_layer_and_rendered_scan(engine: RapidOcrEngine) -> None:
    scan_lines = _lines(51)
    scanned = image_pdf([render_prescription(scan_lines, seed=51)], dpi=200)
    typed = text_pdf([["Discharge summary", "Tab. Amlodipine 5 mg OD x 30 days"]])
    pages = load_document(merge_pdfs(typed, scanned), "records.pdf")
    assert [type(p).__name__ for p in pages] == ["PageText", "PageImage"]
    assert isinstance(pages[1], PageImage) and pages[1].source == "pdf-render"
    document = ocr_document(pages, engine)
    assert [p.source for p in document.pages] == ["text-layer", "ocr"]
    assert document.pages[0].text == "Discharge summary\nTab. Amlodipine 5 mg OD x 30 days"
    assert _cer(prescription_text(scan_lines, 51), document.pages[1].text) <= TARGET_CER_CLEAN
    assert document.full_text.index("Amlodipine 5 mg") < document.full_text.index("Metformin 500 mg")


def test_eval_reports_cer_per_file_and_overall(engine: RapidOcrEngine, tmp_path: Path) -> None:
    from backend.evals._prescription_images import make_samples

    make_samples(2, tmp_path, degrade=True, first_seed=60)
    result = evaluate_folder(tmp_path, TARGET_CER_DEGRADED, engine=engine)
    assert result["files"] == 2 and result["failed"] == 0
    assert result["cer"] <= TARGET_CER_DEGRADED and result["pass"] is True
    assert [row["file"] for row in result["rows"]] == ["rx_degraded_060.jpg", "rx_degraded_061.jpg"]
    assert result["s_per_page_median"] > 0
