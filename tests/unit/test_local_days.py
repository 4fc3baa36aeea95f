"""Days a person reads are the clinic's days: a visit at 00:30 in Kolkata is that day, not the UTC day before.

Every instant here is pinned near midnight in a non-UTC zone, where the UTC day and the clinic's day differ.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.domain.errors import AuthenticationFailed
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role, User
from backend.domain.reconcile import MedSource, reconcile
from backend.domain.timeline import day_start_ms, history_items
from backend.ports import RecordStore
from backend.services import api_tokens
from backend.services.access import Principal
from backend.services.export import summary_html
from backend.services.timeline import active_medications, build_timeline
from tests.fakes.records import fake_record_store
from tests.helpers.clinic_time import KOLKATA, LATER, NEW_YORK, VISIT

DOCTOR = Principal("dr", Role.DOCTOR)
PID = "PAT_0000aaaa"


def _med(name: str, strength: str, status: str | None = None) -> Medication:
    return Medication(name=name, verbatim=f"{name} {strength}", strength=strength, status=status, verified=True)


def _note_source(ts: int, *meds: Medication) -> MedSource:
    return MedSource("note", ts, True, {"kind": "note", "timestamp": ts}, list(meds))


def test_medication_changes_name_the_clinics_day() -> None:
    sources = [
        _note_source(VISIT, _med("metformin", "500 mg", "started")),
        _note_source(LATER, _med("metformin", "1 g")),
    ]
    (local,) = reconcile(sources, tz=KOLKATA)
    assert local.changes == ["started on 2026-03-09", "dose changed 500 mg -> 1 g on 2026-04-02"]
    assert (local.first_day, local.last_day, local.last_source) == ("2026-03-09", "2026-04-02", "note 2026-04-02")
    (utc,) = reconcile(sources)  # the default is UTC, where the same instants fall on the day before
    assert utc.changes[0] == "started on 2026-03-08"


def test_a_dated_document_keeps_its_own_date_west_of_utc() -> None:
    # Its timeline time is 00:00 UTC of its date, which is the evening before in New York.
    ts = day_start_ms("2026-03-09")
    doc = MedSource(
        "document", ts, True, {"kind": "document", "timestamp": ts}, [_med("amlodipine", "5 mg")], "2026-03-09"
    )
    (m,) = reconcile([doc], tz=NEW_YORK)
    assert m.changes == ["first recorded on 2026-03-09"] and m.first_day == "2026-03-09"
    assert m.last_source == "document 2026-03-09"


def test_conflicting_doses_name_each_sources_clinic_day() -> None:
    later = VISIT + 3_600_000  # 01:30 IST, the same clinic day
    sources = [
        _note_source(VISIT, _med("amlodipine", "5 mg")),
        MedSource("document", later, True, {"kind": "document", "timestamp": later}, [_med("amlodipine", "10 mg")]),
    ]
    (m,) = reconcile(sources, tz=KOLKATA)
    assert m.conflict
    assert m.conflict_detail.endswith("5 mg (note 2026-03-09) vs 10 mg (document 2026-03-09)")


def _document(uploaded: int, dated: str | None, n_meds: int) -> HistoryEntry:
    meds = [_med(f"drug{i}", "5 mg") for i in range(n_meds)]
    return HistoryEntry(
        patient_id=PID,
        timestamp=uploaded,
        medications=meds,
        source="digitized",
        document_key="blob-1",
        document_date=dated,
    )


def test_a_documents_upload_day_is_the_clinics_and_counts_read_as_english() -> None:
    (item,) = history_items([_document(VISIT, "2026-02-27", 1)], KOLKATA)
    assert item.title == "Document (1 medication) · dated 2026-02-27, uploaded 2026-03-09"
    (two,) = history_items([_document(VISIT, None, 2)])
    assert two.title == "Document (2 medications)"
    (listed,) = history_items([HistoryEntry(patient_id=PID, timestamp=VISIT, medications=[_med("x", "1 mg")])])
    assert listed.title == "Medication list (1 medication)"


def _stores() -> RecordStore:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    stores.history.add(_document(VISIT, "2026-02-27", 1))
    stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=LATER,
            status=NoteStatus.SIGNED,
            sections={"assessment": "Diabetes."},
            medications=[_med("drug0", "10 mg")],
            updated_at=LATER,
        )
    )
    return stores


def test_the_timeline_and_medication_list_services_take_the_clinics_zone() -> None:
    stores = _stores()
    page = build_timeline(stores, DOCTOR, PID, {"document"}, tz=KOLKATA)
    assert page.items[0].title.endswith("uploaded 2026-03-09")
    (m,) = active_medications(stores, DOCTOR, PID, KOLKATA)
    assert m.changes == ["first recorded on 2026-02-27", "dose changed 5 mg -> 10 mg on 2026-04-02"]


def test_the_printable_summary_shows_the_clinics_days() -> None:
    page = summary_html(_stores(), DOCTOR, PID, tz=KOLKATA)
    assert "dose changed 5 mg -&gt; 10 mg on 2026-04-02" in page
    assert "2026-02-27 – 2026-04-02" in page
    assert "2026-04-01" not in page  # the UTC day of the note


def test_an_expired_api_token_names_its_instant_in_utc() -> None:
    stores = fake_record_store()
    stores.users.add(User(username="asha", role=Role.NURSE, password_hash="x"))
    issued = api_tokens.create_token(stores, Principal("root", Role.ADMIN), "asha", days=1, label="phone")
    expires = issued.record.expires_at
    assert expires is not None
    with pytest.raises(AuthenticationFailed) as caught:
        api_tokens.principal_for_token(stores, issued.token, expires + 1)
    shown = datetime.fromtimestamp(expires / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    assert f"expired at {shown} UTC" in caught.value.message
