"""Digitize service, right patient and right date: a document naming someone else needs a confirmation
(audited, as is a cancel), and the confirmed document date places the entry on the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.models import HistoryEntry, Patient, Role
from backend.domain.timeline import day_start_ms, history_items
from backend.ports import OcrLine, RecordStore
from backend.services.access import Principal
from backend.services.digitize import (
    DigitizeDeps,
    cancel_mismatch,
    mismatch_summary,
    read_document,
    save_digitized,
)
from backend.services.timeline import medication_sources
from tests.fakes.blobs import FakeBlobs

NURSE = Principal("asha", Role.NURSE)
TODAY = date(2025, 6, 1)
KAVITA_RX = (
    "Sunrise Family Clinic\nPh: 080 2536 1215\nName: Kavita Joshi  Age: 52 F\nDate: 12/03/2024\nRx\n"
    "Tab. Pan 40 OD before breakfast\nTab. Metformin 500 mg BD x 30 days\nReview on: 26/03/2024"
)


@dataclass(frozen=True)
class _Page:
    """What a page of the real document reader gives: its lines (with boxes) and text."""

    index: int
    lines: tuple[OcrLine, ...]
    text: str


@dataclass(frozen=True)
class _Document:
    pages: tuple[_Page, ...]
    full_text: str


class TextOcr:
    """An OCR engine over pages that are already text (the bytes of a "scan" are its UTF-8 lines)."""

    name = "text"

    def read_image(self, image: Any, page: int = 0) -> list[OcrLine]:
        return [OcrLine(t, ((0, 10 * i), (100, 10 * i)), 0.99, page) for i, t in enumerate(image.splitlines())]


def _load(data: bytes, filename: str, max_pages: int = 20, max_bytes: int = 0) -> list[str]:
    return [data.decode()]


def _read_pages(pages: list[str], engine: TextOcr) -> _Document:
    out = tuple(_Page(i, tuple(engine.read_image(p, i)), p) for i, p in enumerate(pages))
    return _Document(out, "\n\n".join(p.text for p in out))


@pytest.fixture
def deps(stores: RecordStore) -> DigitizeDeps:
    stores.patients.add(Patient(patient_id="PAT_5117a000", name="Sita Devi", dob="1991-01-15", sex="female"))
    stores.patients.add(Patient(patient_id="PAT_ca417a00", name="Kavita Joshi", dob="1972-01-02", sex="female"))
    return DigitizeDeps(
        stores=stores,
        blobs=FakeBlobs(),  # type: ignore[arg-type]
        ocr=TextOcr,  # type: ignore[arg-type]
        load_document=_load,
        read_pages=_read_pages,  # type: ignore[arg-type]
        mime_of=lambda data: "image/png",
        today=lambda: TODAY,
    )


def _actions(stores: RecordStore) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.patient_id, e.detail) for e in reversed(stores.audit.query(limit=100).items)]


def test_a_document_for_another_patient_needs_confirmation(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_5117a000", KAVITA_RX.encode(), "rx.png")
    assert reading.identity is not None and reading.identity.status == "mismatch"
    assert reading.identity.disagreeing == ["name", "age"]
    sita = deps.stores.patients.get("PAT_5117a000")
    assert mismatch_summary(reading, sita) == "This document is for Kavita Joshi, 52 F — you selected Sita Devi, 33 F."
    with pytest.raises(ValidationFailed, match="Confirm that it belongs to Sita Devi"):
        save_digitized(deps, NURSE, "PAT_5117a000", KAVITA_RX.encode(), reading, reading.medications)
    assert deps.stores.history.list_for_patient("PAT_5117a000").items == []
    assert not deps.blobs.blobs  # type: ignore[attr-defined]  # nothing stored before the confirmation

    entry = save_digitized(
        deps, NURSE, "PAT_5117a000", KAVITA_RX.encode(), reading, reading.medications, confirm_patient=True
    )
    actions = _actions(deps.stores)
    confirmed = [a for a in actions if a[0] == "digitize.identity_confirmed"]
    assert confirmed == [("digitize.identity_confirmed", "PAT_5117a000", f"{entry.timestamp} fields=name,age")]
    assert "Kavita" not in " ".join(d for _, _, d in actions)  # the audit trail names fields, not what they say
    assert [a[0] for a in actions] == ["digitize.read", "digitize.identity_confirmed", "digitize.save"]
    assert "identity mismatch (name,age)" in actions[0][2]


def test_cancel_is_audited_and_stores_nothing(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_5117a000", KAVITA_RX.encode(), "rx.png")
    cancel_mismatch(deps, NURSE, "PAT_5117a000", reading)
    assert _actions(deps.stores)[-1] == ("digitize.identity_cancelled", "PAT_5117a000", "fields=name,age")
    assert deps.stores.history.list_for_patient("PAT_5117a000").items == []


def test_the_right_patient_saves_without_confirmation_and_keeps_timing(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), "rx.png")
    assert reading.identity is not None and reading.identity.status == "match"
    assert [m.instructions for m in reading.medications] == ["before breakfast", None]
    entry = save_digitized(deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), reading, reading.medications)
    assert entry.document_date is None  # not confirmed: dated by the upload
    assert "digitize.identity_confirmed" not in [a[0] for a in _actions(deps.stores)]


def test_a_reading_for_one_patient_cannot_be_saved_to_another(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), "rx.png")
    with pytest.raises(ValidationFailed, match="read for another patient"):
        save_digitized(deps, NURSE, "PAT_5117a000", KAVITA_RX.encode(), reading, [], confirm_patient=True)


def test_the_confirmed_document_date_dates_the_timeline_entry_and_the_upload_is_kept(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), "rx.png")
    assert reading.identity is not None and reading.identity.identity.date is not None
    proposed = reading.identity.identity.date.day
    assert proposed == date(2024, 3, 12)  # the printed date, not the review date below it
    assert [d.day for d in reading.identity.identity.other_dates] == [date(2024, 3, 26)]
    entry = save_digitized(
        deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), reading, reading.medications, document_date=proposed
    )
    stored = deps.stores.history.get("PAT_ca417a00", entry.timestamp)
    assert stored.document_date == "2024-03-12"
    (item,) = history_items([stored])
    assert item.timestamp == day_start_ms("2024-03-12")
    assert item.ref["timestamp"] == entry.timestamp  # the record is still found by its upload time
    assert item.detail["uploaded_at"] == entry.timestamp
    assert "dated 2024-03-12" in item.title
    (source,) = medication_sources([], [stored])
    assert source.timestamp == day_start_ms("2024-03-12")  # an old prescription is old in reconciliation too


def test_a_future_document_date_is_refused(deps: DigitizeDeps) -> None:
    reading = read_document(deps, NURSE, "PAT_ca417a00", KAVITA_RX.encode(), "rx.png")
    with pytest.raises(ValidationFailed, match="in the future"):
        save_digitized(deps, NURSE, "PAT_ca417a00", b"x", reading, [], document_date=date(2025, 7, 1))


def test_an_old_history_row_without_the_document_date_loads() -> None:
    # The JSON body of a row written before ``document_date`` existed.
    old = (
        '{"version": 1, "patient_id": "PAT_ca417a00", "timestamp": 1700000000000, "source": "digitize:image",'
        ' "medications": [{"name": "metformin", "verbatim": "Metformin"}], "document_key": "documents/ab/abcd",'
        ' "document_mime": "image/png", "extracted_text": "Metformin 500", "author": "asha"}'
    )
    entry = HistoryEntry.model_validate_json(old)
    assert entry.document_date is None
    (item,) = history_items([entry])
    assert item.timestamp == 1700000000000 and item.title == "Document (1 medication)"
