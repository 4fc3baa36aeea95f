"""Timeline merge, filters, paging, amendments; the dashboard's cheap queries; the medication list service."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.errors import NotFound, PermissionDenied, ValidationFailed
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role, now_ms
from backend.domain.note_content import CitedText
from backend.domain.timeline import day_start_ms
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.notes import amend_note, sign_note
from backend.services.timeline import active_medications, build_timeline, changed_since, dashboard_summary

DOCTOR = Principal("dr", Role.DOCTOR)
NURSE = Principal("asha", Role.NURSE)
ADMIN = Principal("root", Role.ADMIN)
DAY = 86_400_000
T0 = day_start_ms("2024-03-01")
PID = "PAT_0000aaaa"


def _patient(stores: RecordStore, pid: str = PID, name: str = "Ram Kumar") -> None:
    stores.patients.add(Patient(patient_id=pid, name=name))


def _note(stores: RecordStore, day: int, status: NoteStatus = NoteStatus.SIGNED, pid: str = PID, **kw: Any) -> Note:
    ts = T0 + day * DAY
    return stores.notes.add(
        Note(
            patient_id=pid,
            timestamp=ts,
            status=status,
            sections={"assessment": f"Assessment of day {day}."},
            updated_at=ts,
            **kw,
        )
    )


def _seed(stores: RecordStore) -> dict[str, Any]:
    _patient(stores)
    n1 = _note(stores, 0, chief_complaint=CitedText(text="Fever"))
    n2 = _note(stores, 10, NoteStatus.DRAFT)
    meds = stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=T0 + 5 * DAY,
            source="demo",
            medications=[Medication(name="metformin", strength="500 mg", verified=True)],
        )
    )
    doc = stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=T0 + 6 * DAY,
            source="digitize:image",
            document_key="img/abc",
            document_mime="image/png",
            medications=[Medication(name="Xyzolin", verified=False)],
        )
    )
    return {"n1": n1, "n2": n2, "meds": meds, "doc": doc}


def _episodes(calls: list[str]) -> Any:
    def episodes_for(patient_id: str) -> list[dict[str, Any]]:
        calls.append(patient_id)
        return [
            {
                "start_day": "2024-03-08",
                "end_day": "2024-03-09",
                "metric": "resting_hr",
                "explanation": "Resting HR 78 vs usual 62 for 2 days.",
            }
        ]

    return episodes_for


def test_merges_all_kinds_newest_first(stores: RecordStore) -> None:
    _seed(stores)
    page = build_timeline(stores, DOCTOR, PID, episodes_for=_episodes([]))
    assert [(i.kind, i.timestamp) for i in page.items] == [
        ("note", T0 + 10 * DAY),
        ("anomaly", day_start_ms("2024-03-08")),
        ("document", T0 + 6 * DAY),
        ("medications", T0 + 5 * DAY),
        ("note", T0),
    ]
    by_kind = {i.kind: i for i in page.items}
    assert page.items[0].status == "draft" and page.items[-1].status == "signed"
    assert page.items[-1].title == "Note: Fever"
    assert by_kind["document"].ref["document_key"] == "img/abc" and "unverified" in by_kind["document"].summary
    assert by_kind["anomaly"].ref == {
        "patient_id": PID,
        "start_day": "2024-03-08",
        "end_day": "2024-03-09",
        "metric": "resting_hr",
    }
    assert "78" in by_kind["anomaly"].summary
    assert page.next_cursor is None and page.total == 5


def test_filters_by_kind_and_date_without_computing_unwanted_anomalies(stores: RecordStore) -> None:
    _seed(stores)
    calls: list[str] = []
    notes_only = build_timeline(stores, DOCTOR, PID, kinds={"note"}, episodes_for=_episodes(calls))
    assert {i.kind for i in notes_only.items} == {"note"} and len(notes_only.items) == 2
    assert calls == []  # anomaly detection is not run when anomalies are filtered out
    window = build_timeline(
        stores, DOCTOR, PID, start_ms=T0 + 6 * DAY, end_ms=T0 + 8 * DAY - 1, episodes_for=_episodes(calls)
    )
    assert [i.kind for i in window.items] == ["anomaly", "document"]
    # an episode that began before the window but runs into it still shows
    late = build_timeline(
        stores,
        DOCTOR,
        PID,
        kinds={"anomaly"},
        start_ms=day_start_ms("2024-03-09") + 3600_000,
        episodes_for=_episodes(calls),
    )
    assert len(late.items) == 1


def test_pages_cover_everything_once_even_when_a_note_arrives_between_pages(stores: RecordStore) -> None:
    _patient(stores)
    for d in range(7):
        _note(stores, d)
    first = build_timeline(stores, DOCTOR, PID, limit=3)
    assert len(first.items) == 3 and first.next_cursor and first.total == 7
    _note(stores, 100)  # newer than everything: must not shift the next pages
    seen = [i.timestamp for i in first.items]
    cursor: str | None = first.next_cursor
    while cursor:
        page = build_timeline(stores, DOCTOR, PID, limit=3, cursor=cursor)
        seen += [i.timestamp for i in page.items]
        cursor = page.next_cursor
    assert seen == [T0 + d * DAY for d in range(6, -1, -1)]


def test_amendments_are_linked_both_ways(stores: RecordStore) -> None:
    _patient(stores)
    original = _note(stores, 0, NoteStatus.DRAFT)
    signed = sign_note(stores, DOCTOR, original)
    amendment = amend_note(stores, DOCTOR, signed)
    items = {i.ref["timestamp"]: i for i in build_timeline(stores, DOCTOR, PID).items}
    assert (
        items[amendment.timestamp].ref["amends"] == original.timestamp
        and items[amendment.timestamp].title == "Amendment"
    )
    assert items[original.timestamp].ref["amended_by"] == [amendment.timestamp]
    assert items[original.timestamp].status == "signed (amended)"


def test_access_errors_and_audit(stores: RecordStore) -> None:
    _seed(stores)
    with pytest.raises(PermissionDenied):
        build_timeline(stores, ADMIN, PID)
    with pytest.raises(NotFound):
        build_timeline(stores, DOCTOR, "PAT_ffffffff")
    with pytest.raises(ValidationFailed, match="Unknown timeline kind"):
        build_timeline(stores, DOCTOR, PID, kinds={"x-ray"})
    with pytest.raises(ValidationFailed, match="page link"):
        build_timeline(stores, DOCTOR, PID, cursor="not-a-cursor")
    build_timeline(stores, NURSE, PID)
    events = stores.audit.query(patient_id=PID).items
    assert events[0].action == "timeline.read" and events[0].actor == "asha"


def test_changed_since_returns_new_and_updated_notes_and_audits_only_hits(stores: RecordStore) -> None:
    _patient(stores)
    _note(stores, 0)  # old: updated_at in 2024
    since = now_ms()
    assert changed_since(stores, DOCTOR, since) == []
    assert stores.audit.query().items == []  # an empty poll leaves no trace
    fresh = stores.notes.add(Note(patient_id=PID, status=NoteStatus.DRAFT, sections={"subjective": "Cough."}))
    got = changed_since(stores, DOCTOR, since)
    assert [n.timestamp for n in got] == [fresh.timestamp]
    assert stores.audit.query().items[0].action == "notes.changed"


def test_dashboard_lists_drafts_with_names_and_recent_activity(stores: RecordStore) -> None:
    _patient(stores)
    _patient(stores, "PAT_0000bbbb", "Sita Devi")
    since = now_ms()
    draft = stores.notes.add(
        Note(
            patient_id="PAT_0000bbbb",
            status=NoteStatus.DRAFT,
            author="asha",
            chief_complaint=CitedText(text="Cough"),
        )
    )
    stores.notes.add(Note(patient_id=PID, status=NoteStatus.SIGNED, sections={"plan": "Rest."}))
    build_timeline(stores, NURSE, PID)
    summary = dashboard_summary(stores, DOCTOR, since)
    assert [(d.patient_id, d.patient_name, d.timestamp, d.headline) for d in summary.drafts] == [
        ("PAT_0000bbbb", "Sita Devi", draft.timestamp, "Cough")
    ]
    assert [e.action for e in summary.recent_activity] == ["timeline.read"]
    again = dashboard_summary(stores, DOCTOR, since)
    assert [e.action for e in again.recent_activity] == ["timeline.read"]  # its own reads are not "activity"
    assert dashboard_summary(stores, NURSE, since).recent_activity == []  # nurses may not read the audit trail


def test_dashboard_lists_a_draft_forgotten_for_months(stores: RecordStore) -> None:
    _patient(stores)
    months_ago = now_ms() - 120 * 86_400_000
    old = stores.notes.add(Note(patient_id=PID, status=NoteStatus.DRAFT, timestamp=months_ago, updated_at=months_ago))
    summary = dashboard_summary(stores, DOCTOR, now_ms())
    assert [(d.patient_id, d.timestamp) for d in summary.drafts] == [(PID, old.timestamp)]


def test_active_medications_service_reconciles_and_audits(stores: RecordStore) -> None:
    _patient(stores)
    _note(stores, 0, medications=[Medication(name="metformin", strength="500 mg", verified=True)])
    _note(stores, 1, NoteStatus.DRAFT, medications=[Medication(name="insulin", verified=True)])
    stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=T0 + 2 * DAY,
            medications=[Medication(name="metformin", strength="1000 mg", verified=True)],
        )
    )
    meds = active_medications(stores, DOCTOR, PID)
    assert [m.name for m in meds] == ["metformin"] and meds[0].conflict
    assert stores.audit.query(patient_id=PID).items[0].action == "medications.read"
