"""The patients a clinician is likely to want next, for a page opened with no patient chosen.

Three sources, in this order, each newest first and each patient once: the patients this user opened lately
(their own lines of the audit trail, which every opening writes anyway), drafts waiting for a signature, and
notes written or changed lately. A handful of key queries; no scan of the patients table.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.errors import NotFound
from backend.domain.models import NoteStatus, Patient
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, require
from backend.services.audit_shown import record_shown

# Audit actions that mean "this user had this patient open" (see ui/audit_words.py for their words).
OPENED = frozenset(("patient.read", "timeline.read", "metrics.read", "note.read", "medications.read"))
OPENED_BY_YOU, DRAFT_WAITING, NEW_NOTE = "opened by you", "draft waiting for signature", "new note"


@dataclass(frozen=True)
class RecentPatient:
    patient: Patient
    why: str  # one of OPENED_BY_YOU, DRAFT_WAITING, NEW_NOTE
    at: int  # when that happened (epoch ms)


def recent_patients(stores: RecordStore, principal: Principal, since_ms: int, limit: int = 8) -> list[RecentPatient]:
    """Up to ``limit`` patients: opened by ``principal`` since ``since_ms``, then drafts, then notes since then.

    Args:
        stores: the record store.
        principal: needs Permission.READ_PATIENTS; only their own audit lines are read.
        since_ms: how far back "lately" reaches (epoch ms), for openings and notes; drafts wait however old.
        limit: how many patients at most.
    """
    require(principal, Permission.READ_PATIENTS)
    seen: dict[str, tuple[str, int]] = {}

    def add(patient_id: str | None, why: str, at: int) -> None:
        if patient_id and patient_id not in seen and len(seen) < limit:
            seen[patient_id] = (why, at)

    for e in stores.audit.query(actor=principal.username, since=since_ms, limit=200).items:
        if e.action in OPENED:
            add(e.patient_id, OPENED_BY_YOU, e.at)
    for n in stores.notes.drafts(50):
        if n.status is NoteStatus.DRAFT:
            add(n.patient_id, DRAFT_WAITING, n.updated_at)
    for n in stores.notes.changed_since(since_ms, 50):
        add(n.patient_id, NEW_NOTE, n.updated_at)
    out = []
    for patient_id, (why, at) in seen.items():
        try:
            out.append(RecentPatient(stores.patients.get(patient_id), why, at))
        except NotFound:  # a patient removed since (retention): nothing to offer
            continue
    record_shown(stores.audit, principal, "patient.recent", [r.patient.patient_id for r in out])
    return out
