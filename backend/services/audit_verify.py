"""Checking the audit trail's hash chain (administrators and the operator at the console)."""

from __future__ import annotations

from backend.domain.audit_chain import ChainReport, verify_chain
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require


def verify_audit_chain(stores: RecordStore, principal: Principal) -> ChainReport:
    """Walk the whole audit chain and report the first broken link; the check itself is audited after."""
    require(principal, Permission.READ_AUDIT)
    head = stores.audit.chain_head()  # before the walk: rows written meanwhile come after it
    report = verify_chain(stores.audit.chain(), head)
    record(
        stores.audit, principal, "audit.verify", detail="intact" if report.intact else f"broken at {report.broken_at}"
    )
    return report
