"""Reading the audit trail (doctors and admins)."""

from __future__ import annotations

from backend.domain.models import AuditEvent, Page
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, require


def audit_trail(
    stores: RecordStore,
    principal: Principal,
    *,
    patient_id: str | None = None,
    actor: str | None = None,
    since: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AuditEvent]:
    require(principal, Permission.READ_AUDIT)
    return stores.audit.query(
        patient_id=patient_id or None, actor=actor or None, since=since, cursor=cursor, limit=limit
    )
