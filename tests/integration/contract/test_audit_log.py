"""AuditLog contract: append-only, newest first, by patient / by actor / since, paged."""

from __future__ import annotations

import itertools
import threading

from backend.domain.audit_chain import GENESIS, verify_chain
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


def test_every_row_is_chained_and_the_chain_verifies(record_store: RecordStore) -> None:
    for i in range(5):
        record_store.audit.append(_event(1000 + i, "asha", "PAT_00000001" if i % 2 else None, f"a{i}"))
    links = list(record_store.audit.chain())
    assert [link.fields["action"] for link in links] == [f"a{i}" for i in range(5)]
    assert links[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(links))
    report = verify_chain(record_store.audit.chain(), record_store.audit.chain_head())
    assert (report.intact, report.rows, report.before_chain) == (True, 5, 0)


def test_concurrent_writers_keep_one_valid_chain(record_store: RecordStore) -> None:
    writers, per_writer = 4, 6
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_writer):
                record_store.audit.append(_event(5000 + i, f"user{n}", None, f"w{n}.{i}"))
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    links = list(record_store.audit.chain())
    assert sorted(link.fields["action"] for link in links) == sorted(
        f"w{n}.{i}" for n in range(writers) for i in range(per_writer)
    )
    assert len({link.prev_hash for link in links}) == len(links)  # no two rows link to the same predecessor
    report = verify_chain(iter(links), record_store.audit.chain_head())
    assert report.intact and report.rows == writers * per_writer
