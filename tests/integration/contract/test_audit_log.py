"""AuditLog contract: append-only, newest first, by patient / by actor / since, paged."""

from __future__ import annotations

from backend.domain.models import AuditEvent
from backend.ports import RecordStore


def _event(at: int, actor: str, patient: str | None, action: str = "patient.read") -> AuditEvent:
    return AuditEvent(at=at, actor=actor, role="nurse", action=action, patient_id=patient)


def test_query_filters_and_order(record_store: RecordStore) -> None:
    log = record_store.audit
    log.append(_event(1000, "asha", "PAT_00000001"))
    log.append(_event(2000, "ravi", "PAT_00000001", "note.sign"))
    log.append(_event(3000, "asha", "PAT_00000002"))
    log.append(_event(4000, "asha", None, "login"))
    assert [e.at for e in log.query().items] == [4000, 3000, 2000, 1000]
    assert [e.at for e in log.query(patient_id="PAT_00000001").items] == [2000, 1000]
    assert [e.at for e in log.query(actor="asha").items] == [4000, 3000, 1000]
    assert [e.at for e in log.query(actor="asha", since=2500).items] == [4000, 3000]
    assert [e.action for e in log.query(patient_id="PAT_00000001", since=1500).items] == ["note.sign"]
    assert log.query(actor="nobody").items == []
    assert [e.at for e in log.query(patient_id="PAT_00000001", actor="ravi").items] == [2000]


def test_pages_cover_everything_once(record_store: RecordStore) -> None:
    for i in range(11):
        record_store.audit.append(_event(10_000 + i, "asha", "PAT_00000009"))
    for kwargs in ({}, {"actor": "asha"}, {"patient_id": "PAT_00000009"}):
        got: list[int] = []
        cursor = None
        while True:
            page = record_store.audit.query(cursor=cursor, limit=4, **kwargs)  # type: ignore[arg-type]
            got += [e.at for e in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert got == [10_000 + i for i in reversed(range(11))], kwargs


def test_log_has_no_update_or_delete(record_store: RecordStore) -> None:
    assert not hasattr(record_store.audit, "update")
    assert not hasattr(record_store.audit, "delete")
