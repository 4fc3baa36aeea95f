"""NoteStore and HistoryStore contract: (patient, timestamp) keys, no silent overwrite, paging, changed_since."""

from __future__ import annotations

import pytest

from backend.domain.errors import ConcurrentUpdate, NotFound, SignedNoteImmutable
from backend.domain.models import Evidence, HistoryEntry, Medication, Note, NoteStatus, Segment
from backend.domain.note_content import Provenance, RecoveredName, Symptom, Vital
from backend.ports import RecordStore


def _note(ts: int, patient: str = "PAT_00000001", **kw: object) -> Note:
    return Note(patient_id=patient, timestamp=ts, **kw)  # type: ignore[arg-type]


def test_note_round_trip_keeps_nested_data(record_store: RecordStore) -> None:
    note = _note(
        1_700_000_000_123,
        transcript=[Segment(id=0, start=0.0, end=2.5, text="fever since two days", speaker="patient")],
        sections={"subjective": "Fever x2 days", "plan": ""},
        vitals=[Vital(kind="temperature", value="38.4", unit="C", segment_ids=[0])],
        symptoms=[Symptom(name="fever", present=True, segment_ids=[0])],
        provenance=Provenance(recovered_names=[RecoveredName(segment_id=0, heard="doll oh", drug="Dolo", score=0.91)]),
        medications=[
            Medication(name="paracetamol", strength="650 mg", evidence=Evidence(segment_ids=[0], quote="dolo"))
        ],
    )
    stored = record_store.notes.add(note)
    assert record_store.notes.get(note.patient_id, stored.timestamp) == note
    with pytest.raises(NotFound):
        record_store.notes.get(note.patient_id, 1)


def test_colliding_timestamps_are_bumped_never_overwritten(record_store: RecordStore) -> None:
    first = record_store.notes.add(_note(5000, author="asha"))
    second = record_store.notes.add(_note(5000, author="ravi"))
    third = record_store.notes.add(_note(5000, author="meena"))
    assert (first.timestamp, second.timestamp, third.timestamp) == (5000, 5001, 5002)
    assert [n.author for n in record_store.notes.list_for_patient("PAT_00000001").items] == ["meena", "ravi", "asha"]


def test_versioned_update_and_stale_write(record_store: RecordStore) -> None:
    note = record_store.notes.add(_note(7000))
    edited = record_store.notes.update(note.model_copy(update={"sections": {"plan": "first"}}), 1)
    assert edited.version == 2
    with pytest.raises(ConcurrentUpdate):
        record_store.notes.update(note.model_copy(update={"sections": {"plan": "stale"}}), 1)
    stored = record_store.notes.get(note.patient_id, note.timestamp)
    assert (stored.status, stored.sections, stored.version) == (NoteStatus.DRAFT, {"plan": "first"}, 2)
    with pytest.raises(NotFound):
        record_store.notes.update(_note(123456), 1)


def test_timeline_pages_newest_first_per_patient(record_store: RecordStore) -> None:
    for ts in range(1, 12):
        record_store.notes.add(_note(ts * 1000))
    record_store.notes.add(_note(99_000, patient="PAT_00000002"))
    got: list[int] = []
    cursor = None
    while True:
        page = record_store.notes.list_for_patient("PAT_00000001", cursor=cursor, limit=5)
        assert len(page.items) <= 5
        got += [n.timestamp for n in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert got == [ts * 1000 for ts in reversed(range(1, 12))]
    assert record_store.notes.list_for_patient("PAT_0000000f").items == []


def test_changed_since_sees_new_and_updated_notes_newest_first(record_store: RecordStore) -> None:
    old = record_store.notes.add(_note(1000, updated_at=1_000))
    record_store.notes.add(_note(2000, patient="PAT_00000002", updated_at=2_000))
    record_store.notes.add(_note(3000, patient="PAT_00000003", updated_at=3_000))
    assert [n.timestamp for n in record_store.notes.changed_since(1_500)] == [3000, 2000]
    edited = record_store.notes.update(old.model_copy(update={"sections": {"plan": "rest"}}), 1)
    changed = record_store.notes.changed_since(edited.updated_at)
    assert [(n.patient_id, n.timestamp) for n in changed] == [("PAT_00000001", 1000)]
    assert len(record_store.notes.changed_since(0, limit=2)) == 2


def test_drafts_lists_unsigned_notes_of_any_age_and_signing_removes_them(record_store: RecordStore) -> None:
    ancient = record_store.notes.add(_note(1000, updated_at=1_000))  # a draft left for decades
    record_store.notes.add(_note(2000, patient="PAT_00000002", updated_at=2_000))
    signed = record_store.notes.add(_note(3000, patient="PAT_00000003", updated_at=3_000))
    record_store.notes.update(signed.model_copy(update={"status": NoteStatus.SIGNED, "signer": "doc"}), 1)
    drafts = record_store.notes.drafts()
    assert [(n.patient_id, n.timestamp) for n in drafts] == [("PAT_00000002", 2000), ("PAT_00000001", 1000)]
    assert all(n.status is NoteStatus.DRAFT for n in drafts)
    touched = record_store.notes.update(ancient.model_copy(update={"sections": {"plan": "rest"}}), 1)
    assert record_store.notes.drafts(limit=1)[0].timestamp == touched.timestamp  # most recently touched first
    record_store.notes.update(touched.model_copy(update={"status": NoteStatus.SIGNED, "signer": "doc"}), 2)
    assert [n.patient_id for n in record_store.notes.drafts()] == ["PAT_00000002"]


def test_history_entries(record_store: RecordStore) -> None:
    entry = HistoryEntry(
        patient_id="PAT_00000001",
        timestamp=42,
        source="digitize:image",
        medications=[Medication(name="metformin", strength="500 mg", frequency="BD", verified=True)],
        document_key="doc/ab/" + "ab" * 32,
        extracted_text="Tab Glycomet 500 BD",
    )
    first = record_store.history.add(entry)
    second = record_store.history.add(entry.model_copy(update={"source": "import"}))
    assert (first.timestamp, second.timestamp) == (42, 43)
    assert record_store.history.get("PAT_00000001", 42) == entry
    page = record_store.history.list_for_patient("PAT_00000001", limit=1)
    assert [e.source for e in page.items] == ["import"] and page.next_cursor
    rest = record_store.history.list_for_patient("PAT_00000001", cursor=page.next_cursor, limit=1)
    assert [e.source for e in rest.items] == ["digitize:image"] and rest.next_cursor is None


def test_store_refuses_to_change_a_signed_note_and_an_amendment_is_a_new_note(record_store: RecordStore) -> None:
    draft = record_store.notes.add(_note(8000, sections={"plan": "rest"}))
    signed = record_store.notes.update(draft.model_copy(update={"status": NoteStatus.SIGNED, "signer": "dr"}), 1)
    for change in (
        {"sections": {"plan": "rewritten"}},  # at the current version: still refused
        {"status": NoteStatus.DRAFT, "signer": None},  # "unsigning" it
    ):
        with pytest.raises(SignedNoteImmutable):
            record_store.notes.update(signed.model_copy(update=change), signed.version)
    with pytest.raises(SignedNoteImmutable):  # a stale version against a signed note says why, too
        record_store.notes.update(draft.model_copy(update={"sections": {"plan": "x"}}), 1)
    assert record_store.notes.get(draft.patient_id, draft.timestamp) == signed
    amendment = record_store.notes.add(
        signed.model_copy(update={"status": NoteStatus.DRAFT, "timestamp": 9000, "amends": 8000, "version": 1})
    )
    edited = record_store.notes.update(amendment.model_copy(update={"sections": {"plan": "amended"}}), 1)
    assert edited.sections == {"plan": "amended"} and edited.amends == 8000
    assert record_store.notes.get(draft.patient_id, 8000).sections == {"plan": "rest"}
