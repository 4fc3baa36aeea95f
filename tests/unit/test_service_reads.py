"""The reads pages used to do on the stores themselves, now services: a role check, then an audit line that names
the patient and holds no clinical text. Signing with the last edits is one write."""

from __future__ import annotations

import pytest

from backend.domain.errors import ConcurrentUpdate, NotFound, PermissionDenied, ValidationFailed
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role, User
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.first_admin import needs_first_admin
from backend.services.history import document_original, get_history_entry
from backend.services.notes import save_draft, sign_draft
from backend.services.patients import list_patients, search_patients
from backend.services.recordings import recording_audio
from backend.services.timeline import dashboard_summary
from tests.fakes.blobs import FakeBlobs

NURSE = Principal("nurse", Role.NURSE)
DOCTOR = Principal("doctor", Role.DOCTOR)
ADMIN = Principal("admin", Role.ADMIN)
PID = "PAT_0000abcd"
CLINICAL = "metformin"  # text of the records below that must never reach the audit trail


def _trail(stores: RecordStore) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.patient_id, e.detail) for e in reversed(stores.audit.query(limit=100).items)]


def test_history_entry_and_its_original_are_audited_reads(stores: RecordStore) -> None:
    blobs = FakeBlobs()
    key = blobs.put(b"%PDF-1.7 original", "application/pdf", prefix="documents")
    entry = stores.history.add(
        HistoryEntry(
            patient_id=PID, medications=[Medication(name="Metformin")], document_key=key, extracted_text=CLINICAL
        )
    )

    assert get_history_entry(stores, NURSE, PID, entry.timestamp).medications[0].name == "Metformin"
    assert document_original(stores, blobs, DOCTOR, PID, entry.timestamp) == b"%PDF-1.7 original"
    assert _trail(stores) == [("history.read", PID, str(entry.timestamp)), ("document.open", PID, str(entry.timestamp))]
    assert all(CLINICAL not in e.detail.lower() for e in stores.audit.query(limit=100).items)


def test_an_entry_without_an_original_opens_nothing(stores: RecordStore) -> None:
    entry = stores.history.add(HistoryEntry(patient_id=PID, medications=[Medication(name="Metformin")]))
    with pytest.raises(NotFound):
        document_original(stores, FakeBlobs(), NURSE, PID, entry.timestamp)
    assert _trail(stores) == []


def test_admin_opens_no_document_or_recording(stores: RecordStore) -> None:
    blobs = FakeBlobs()
    key = blobs.put(b"audio", "audio/wav", prefix="audio")
    note = stores.notes.add(Note(patient_id=PID, audio_key=key))
    entry = stores.history.add(HistoryEntry(patient_id=PID, document_key=key))
    with pytest.raises(PermissionDenied):
        get_history_entry(stores, ADMIN, PID, entry.timestamp)
    with pytest.raises(PermissionDenied):
        document_original(stores, blobs, ADMIN, PID, entry.timestamp)
    with pytest.raises(PermissionDenied):
        recording_audio(stores, blobs, ADMIN, PID, note.timestamp)
    assert _trail(stores) == []


def test_recording_replay_reads_the_notes_own_audio(stores: RecordStore) -> None:
    blobs = FakeBlobs()
    key = blobs.put(b"RIFF....WAVE", "audio/wav", prefix="audio")
    note = stores.notes.add(Note(patient_id=PID, audio_key=key))
    assert recording_audio(stores, blobs, NURSE, PID, note.timestamp) == b"RIFF....WAVE"
    assert _trail(stores) == [("note.audio_play", PID, str(note.timestamp))]

    blobs.delete(key)  # the retention policy removed it: the review panel says so
    with pytest.raises(NotFound):
        recording_audio(stores, blobs, NURSE, PID, note.timestamp)
    assert len(_trail(stores)) == 1


def test_sign_draft_saves_the_edits_and_signs_in_one_write(stores: RecordStore) -> None:
    draft = stores.notes.add(Note(patient_id=PID, sections={"subjective": "cough"}, medications=[]))
    signed = sign_draft(
        stores, DOCTOR, draft, {"subjective": " cough for 3 days ", "plan": "rest"}, [Medication(name="Paracetamol")]
    )

    stored = stores.notes.get(PID, draft.timestamp)
    assert stored == signed
    assert stored.status is NoteStatus.SIGNED and stored.signer == "doctor" and stored.signed_at
    assert stored.sections["subjective"] == "cough for 3 days" and stored.sections["plan"] == "rest"
    assert [m.name for m in stored.medications] == ["Paracetamol"] and stored.edited_by == "doctor"
    assert stored.version == draft.version + 1  # one write: no saved-but-unsigned version in between
    assert [a for a, _, _ in _trail(stores)] == ["note.edit", "note.sign"]


def test_sign_draft_fails_whole_when_someone_saved_first(stores: RecordStore) -> None:
    draft = stores.notes.add(Note(patient_id=PID, sections={"subjective": "cough"}))
    save_draft(stores, NURSE, draft, {"subjective": "cough and fever"})  # the nurse saves meanwhile
    with pytest.raises(ConcurrentUpdate):
        sign_draft(stores, DOCTOR, draft, {"subjective": "cough"})
    stored = stores.notes.get(PID, draft.timestamp)
    assert stored.status is NoteStatus.DRAFT and stored.sections["subjective"] == "cough and fever"
    assert [a for a, _, _ in _trail(stores)] == ["note.edit"]


@pytest.mark.parametrize(
    ("principal", "sections", "error"),
    [
        (NURSE, {"plan": "rest"}, PermissionDenied),  # nurses edit but do not sign (by default)
        (DOCTOR, {"plan": "  "}, ValidationFailed),  # nothing left to sign after the edits
    ],
)
def test_a_refused_signature_saves_nothing(
    stores: RecordStore, principal: Principal, sections: dict[str, str], error: type[Exception]
) -> None:
    draft = stores.notes.add(Note(patient_id=PID, sections={"plan": "rest"}))
    with pytest.raises(error):
        sign_draft(stores, principal, draft, sections)
    assert stores.notes.get(PID, draft.timestamp) == draft
    assert _trail(stores) == []


def test_lists_and_searches_audit_each_patient_shown_not_the_query(stores: RecordStore) -> None:
    for i, name in enumerate(["Asha Rao", "Ashok Mehta", "Ravi Kumar"]):
        stores.patients.add(Patient(patient_id=f"PAT_0000000{i}", name=name, created_at=i))

    found = search_patients(stores, NURSE, "ash")
    summary, *shown = stores.audit.query(limit=100).items[::-1]
    assert summary.action == "patient.search" and "patients=2" in summary.detail and "ash" not in summary.detail
    list_id = summary.detail.split()[0]
    assert sorted((e.action, e.patient_id, e.detail) for e in shown) == sorted(
        ("patient.search.shown", p.patient_id, list_id) for p in found
    )

    page = list_patients(stores, DOCTOR, limit=2)
    listed = [e for e in stores.audit.query(limit=100).items if e.action == "patient.list.shown"]
    assert {e.patient_id for e in listed} == {p.patient_id for p in page.items} and len(listed) == 2


def test_first_run_is_while_no_account_exists(stores: RecordStore) -> None:
    assert needs_first_admin(stores)
    stores.users.add(User(username="admin", role=Role.ADMIN, password_hash="x"))
    assert not needs_first_admin(stores)


def test_the_dashboards_recent_activity_skips_the_per_patient_lines(stores: RecordStore) -> None:
    for i in range(30):
        stores.patients.add(Patient(patient_id=f"PAT_000001{i:02d}", name=f"Asha {i}", created_at=i))
    search_patients(stores, NURSE, "asha", limit=30)
    activity = dashboard_summary(stores, DOCTOR, since_ms=0).recent_activity
    assert [e.action for e in activity] == ["patient.search"]  # one line says the search happened
