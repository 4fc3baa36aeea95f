"""The doctor's view of a patient over time, and the cheap queries behind the live dashboard."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from backend.domain.models import AuditEvent, HistoryEntry, Note, NoteStatus, now_ms
from backend.domain.reconcile import ActiveMed, MedSource, reconcile
from backend.domain.timeline import (
    TimelinePage,
    anomaly_items,
    history_items,
    history_time_ms,
    note_items,
    select_page,
)
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.audit_shown import SHOWN, record_shown
from backend.services.paging import every

EpisodesFor = Callable[[str], list[Mapping[str, Any]]]
_STORE_PAGE = 200
# Actions that the dashboard itself causes; showing them as "recent activity" would only echo the viewer.
_QUIET_ACTIONS = ("dashboard.", "notes.changed")


def all_notes(stores: RecordStore, patient_id: str) -> list[Note]:
    """Every note of one patient, newest first (key query, paged through; no access check: callers check)."""
    return list(every(lambda cursor: stores.notes.list_for_patient(patient_id, cursor, _STORE_PAGE)))


def all_history(stores: RecordStore, patient_id: str) -> list[HistoryEntry]:
    """Every medication list / document of one patient, newest first (no access check: callers check)."""
    return list(every(lambda cursor: stores.history.list_for_patient(patient_id, cursor, _STORE_PAGE)))


def build_timeline(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    kinds: set[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    episodes_for: EpisodesFor | None = None,
    tz: tzinfo = UTC,
) -> TimelinePage:
    """One page of the patient's timeline, newest first.

    Args:
        stores: the record store.
        principal: the signed-in user (needs READ_PATIENTS).
        patient_id: whose timeline.
        kinds: subset of {"note", "medications", "document", "anomaly"}; None = all.
        start_ms: earliest time shown (inclusive, epoch ms); None = no bound.
        end_ms: latest time shown (inclusive, epoch ms); None = no bound.
        cursor: ``next_cursor`` of the previous page.
        limit: items per page.
        episodes_for: ``episodes_for(patient_id)`` -> anomaly episodes as dicts with start_day, end_day, metric,
            explanation. Not called when anomalies are filtered out.
        tz: the clinic's zone (``Settings.clinic_tz``): the days written in titles, and the days the bounds
            fall on for the items that are days (anomaly episodes, dated documents).

    Returns:
        TimelinePage(items, next_cursor, total).

    Raises:
        PermissionDenied, NotFound (unknown patient), ValidationFailed (bad kind or cursor).
    """
    require(principal, Permission.READ_PATIENTS)
    stores.patients.get(patient_id)  # NotFound for an unknown patient rather than an empty timeline
    want = kinds
    items = []
    if want is None or "note" in want:
        items += note_items(all_notes(stores, patient_id))
    if want is None or {"medications", "document"} & want:
        items += history_items(all_history(stores, patient_id), tz)
    if episodes_for is not None and (want is None or "anomaly" in want):
        items += anomaly_items(patient_id, episodes_for(patient_id))
    page = select_page(items, kinds, start_ms, end_ms, cursor, limit, tz)
    kinds_text = ",".join(sorted(kinds)) if kinds else "all"
    record(stores.audit, principal, "timeline.read", patient_id, f"kinds={kinds_text} items={len(page.items)}")
    return page


def medication_sources(notes: list[Note], history: list[HistoryEntry]) -> list[MedSource]:
    """Notes and history entries as reconciliation sources (drafts are passed on; ``reconcile`` skips them)."""
    sources = [
        MedSource(
            "note",
            n.timestamp,
            n.status is NoteStatus.SIGNED,
            {"kind": "note", "patient_id": n.patient_id, "timestamp": n.timestamp},
            n.medications,
        )
        for n in notes
        if n.medications
    ]
    sources += [
        MedSource(
            "document",
            history_time_ms(e),
            True,
            {"kind": "document", "patient_id": e.patient_id, "timestamp": e.timestamp},
            e.medications,
            e.document_date,
        )
        for e in history
        if e.medications
    ]
    return sources


def active_medications(stores: RecordStore, principal: Principal, patient_id: str, tz: tzinfo = UTC) -> list[ActiveMed]:
    """The patient's reconciled medication list (signed notes + digitized documents), active drugs first.

    ``tz`` is the clinic's zone: the days in the changes and warnings are its days.
    """
    require(principal, Permission.READ_PATIENTS)
    meds = reconcile(medication_sources(all_notes(stores, patient_id), all_history(stores, patient_id)), tz=tz)
    record(stores.audit, principal, "medications.read", patient_id, f"{len(meds)} medication(s)")
    return meds


def changed_since(stores: RecordStore, principal: Principal, since_ms: int, limit: int = 100) -> list[Note]:
    """Notes created or updated at or after ``since_ms``, newest first: the dashboard's cheap refresh query.

    Audited only when something changed, so a dashboard polling every few seconds does not flood the trail
    with empty reads.
    """
    require(principal, Permission.READ_PATIENTS)
    notes = stores.notes.changed_since(since_ms, limit)
    if notes:
        patients = sorted({n.patient_id for n in notes})
        for pid in patients:
            record(
                stores.audit,
                principal,
                "notes.changed",
                pid,
                f"since={since_ms} n={sum(n.patient_id == pid for n in notes)}",
            )
    return notes


@dataclass(frozen=True)
class DraftWaiting:
    patient_id: str
    patient_name: str
    timestamp: int
    author: str
    updated_at: int
    headline: str


@dataclass(frozen=True)
class DashboardSummary:
    drafts: list[DraftWaiting]
    recent_activity: list[AuditEvent] = field(default_factory=list)
    as_of: int = 0


def dashboard_summary(
    stores: RecordStore,
    principal: Principal,
    since_ms: int,
    drafts_limit: int = 200,
    activity_limit: int = 20,
) -> DashboardSummary:
    """Drafts waiting for signature (however old) and recent activity.

    Cost: one query of the store's drafts index (at most ``drafts_limit`` notes, most recently touched first),
    one patient lookup per patient with a draft, and one audit query since ``since_ms``. Recent activity needs
    READ_AUDIT; without it the list is empty.
    """
    require(principal, Permission.READ_PATIENTS)
    as_of = now_ms()
    names: dict[str, str] = {}
    drafts = []
    for n in stores.notes.drafts(drafts_limit):
        if n.status is not NoteStatus.DRAFT:  # an eventually consistent index may lag a signature briefly
            continue
        if n.patient_id not in names:
            names[n.patient_id] = stores.patients.get(n.patient_id).name
        headline = n.chief_complaint.text if n.chief_complaint else ""
        drafts.append(DraftWaiting(n.patient_id, names[n.patient_id], n.timestamp, n.author, n.updated_at, headline))
    activity: list[AuditEvent] = []
    if principal.can(Permission.READ_AUDIT):
        # Lists write a line per patient shown (for audits by patient): they are skipped here, so read further.
        page = stores.audit.query(since=since_ms, limit=activity_limit * 10)
        told = [e for e in page.items if not e.action.startswith(_QUIET_ACTIONS) and not e.action.endswith(SHOWN)]
        activity = told[:activity_limit]
    record_shown(stores.audit, principal, "dashboard.read", [d.patient_id for d in drafts], f"drafts={len(drafts)}")
    return DashboardSummary(drafts=drafts, recent_activity=activity, as_of=as_of)
