"""``python -m backend export visit-summary`` against a seeded SQLite data dir: PDF/HTML, Hindi font, drafts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.__main__ import main
from backend.adapters.records.sqlite import open_sqlite_store
from backend.config import Settings
from backend.domain.models import Note, NoteStatus
from backend.services.demo import demo_patient_id, seed_demo

PATIENT = demo_patient_id(1)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("visit-summary-data")
    seed_demo(open_sqlite_store(Settings(data_dir=path).db_path))
    return path


def test_hindi_pdf_has_the_devanagari_font_embedded_and_is_audited(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    out = tmp_path / "summary-hi.pdf"
    assert main(["export", "visit-summary", "--patient", PATIENT, "--lang", "hi", "--out", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/FontName /[A-Z]{6}\+NotoSansDevanagari", pdf), "Devanagari font not embedded"
    assert b"/FontFile2" in pdf  # embedded (subset), not only named
    stores = open_sqlite_store(Settings(data_dir=data_dir).db_path)
    event = stores.audit.query(patient_id=PATIENT).items[0]
    assert event.action == "export.visit_summary" and "lang=hi" in event.detail and "format=pdf" in event.detail


def test_english_html_and_unknown_language_fallback(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    page = tmp_path / "summary.html"
    assert main(["export", "visit-summary", "--patient", PATIENT, "--lang", "xx", "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<html lang='en'>" in html and "Your medicines" in html
    assert "notice:" in capsys.readouterr().err
    pdf = tmp_path / "summary-en.pdf"
    assert main(["export", "visit-summary", "--patient", PATIENT, "--lang", "en", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF") and b"NotoSansDevanagari" not in pdf.read_bytes()


def test_a_draft_is_refused_with_a_message(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    stores = open_sqlite_store(Settings(data_dir=data_dir).db_path)
    draft = stores.notes.add(
        Note(patient_id=PATIENT, status=NoteStatus.DRAFT, sections={"plan": "Paracetamol 650 mg."})
    )
    out = tmp_path / "draft.pdf"
    argv = ["export", "visit-summary", "--patient", PATIENT, "--note", str(draft.timestamp), "--out", str(out)]
    assert main([*argv, "--lang", "hi"]) == 2
    assert "draft" in capsys.readouterr().err and not out.exists()
    assert main(["export", "visit-summary", "--patient", PATIENT, "--out", str(tmp_path / "x.txt")]) == 2
