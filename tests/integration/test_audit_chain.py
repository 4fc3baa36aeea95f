"""The audit trail's hash chain against the real stores: tampering is found, old rows come before the chain,
``python -m backend audit verify`` prints and exits accordingly; signed notes are refused by SQLite itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.__main__ import main
from backend.adapters.records.dynamodb.audit import DynamoAuditLog
from backend.adapters.records.dynamodb.tables import AUDIT
from backend.adapters.records.sqlite import open_sqlite_store
from backend.config import Settings
from backend.domain.audit_chain import verify_chain
from backend.domain.models import AuditEvent, Note, NoteStatus
from backend.ports import AuditLog
from tests.helpers.aws_servers import fresh_tables

_DROP_TRIGGERS = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"


def _event(i: int) -> AuditEvent:
    return AuditEvent(at=1_000 + i, actor="asha", role="nurse", action=f"patient.read.{i}", patient_id="PAT_00000001")


def _report(log: AuditLog):  # type: ignore[no-untyped-def]
    return verify_chain(log.chain(), log.chain_head())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COPILOT_STORE", "sqlite")
    return tmp_path


def _db(data_dir: Path) -> Path:
    return Settings(data_dir=data_dir).db_path


def _write(data_dir: Path, n: int) -> None:
    stores = open_sqlite_store(_db(data_dir))
    for i in range(n):
        stores.audit.append(_event(i))


def test_cli_reports_an_intact_chain(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(data_dir, 4)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "4 rows, chain intact"
    assert main(["audit", "verify"]) == 0  # the first check is itself a chained row
    assert capsys.readouterr().out.strip() == "5 rows, chain intact"


def test_changed_row_is_found_and_the_command_exits_1(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(data_dir, 5)
    with sqlite3.connect(_db(data_dir)) as conn:
        conn.executescript(_DROP_TRIGGERS)
        conn.execute("UPDATE audit_log SET body = json_set(body, '$.actor', 'someone-else') WHERE seq = 3")
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("chain broken at row 3: its content does not match its hash"), out


def test_removed_row_is_found(data_dir: Path) -> None:
    _write(data_dir, 5)
    with sqlite3.connect(_db(data_dir)) as conn:
        conn.executescript(_DROP_TRIGGERS)
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
    report = _report(open_sqlite_store(_db(data_dir)).audit)
    assert (report.broken_at, report.rows) == (3, 2)
    assert "does not link to the row before" in report.reason


def test_rows_written_before_the_chain_come_first(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stores = open_sqlite_store(_db(data_dir))
    with sqlite3.connect(_db(data_dir)) as conn:  # as an older version wrote them: no hashes
        for i in range(3):
            conn.execute(
                "INSERT INTO audit_log (at, actor, patient_id, body) VALUES (?, ?, ?, ?)",
                (i, "asha", None, _event(i).model_dump_json()),
            )
    stores.audit.append(_event(10))
    stores.audit.append(_event(11))
    report = _report(stores.audit)
    assert (report.intact, report.rows, report.before_chain) == (True, 5, 3)
    assert [e.at for e in stores.audit.query().items] == [1011, 1010, 1002, 1001, 1000]  # still read as before
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "5 rows (3 before the chain), chain intact"


def test_sqlite_itself_refuses_to_change_or_delete_a_signed_note(data_dir: Path) -> None:
    stores = open_sqlite_store(_db(data_dir))
    note = stores.notes.add(Note(patient_id="PAT_00000001", timestamp=5000))
    stores.notes.update(note.model_copy(update={"status": NoteStatus.SIGNED, "signer": "dr"}), 1)
    with sqlite3.connect(_db(data_dir)) as conn:
        for sql in ("UPDATE notes SET body = '{}' WHERE ts = 5000", "DELETE FROM notes WHERE ts = 5000"):
            with pytest.raises(sqlite3.IntegrityError, match="signed notes are immutable"):
                conn.execute(sql)
    assert stores.notes.get("PAT_00000001", 5000).signer == "dr"


@pytest.fixture
def dynamo_audit() -> Iterator[tuple[DynamoAuditLog, object, str]]:
    with fresh_tables() as (ddb, prefix):
        yield DynamoAuditLog(ddb, prefix), ddb, prefix + AUDIT


def _rows(ddb, table: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted((i for i in items if "entity" in i), key=lambda i: int(i["chain_seq"]["N"]))


def test_dynamodb_changed_row_and_cut_off_end_are_found(dynamo_audit) -> None:  # type: ignore[no-untyped-def]
    log, ddb, table = dynamo_audit
    for i in range(4):
        log.append(_event(i))
    assert _report(log).intact
    rows = _rows(ddb, table)
    changed = {**rows[1], "detail": {"S": "edited"}}
    ddb.put_item(TableName=table, Item=changed)  # what an account with more rights than the app could do
    report = _report(log)
    assert (report.broken_at, "content does not match" in report.reason) == (2, True)
    ddb.put_item(TableName=table, Item=rows[1])  # put back
    ddb.delete_item(TableName=table, Key={"pk": rows[3]["pk"], "sk": rows[3]["sk"]})
    report = _report(log)
    assert (report.broken_at, "ends before its recorded head" in report.reason) == (4, True)


def test_dynamodb_rows_before_the_chain_come_first(dynamo_audit) -> None:  # type: ignore[no-untyped-def]
    log, ddb, table = dynamo_audit
    old = {"pk": {"S": "ACTOR#asha"}, "sk": {"S": "000000000000001#0#old"}, "entity": {"S": "audit"}}
    ddb.put_item(
        TableName=table,
        Item={
            **old,
            "at": {"N": "1"},
            "actor": {"S": "asha"},
            "role": {"S": "nurse"},
            "action": {"S": "login"},
            "detail": {"S": ""},
        },
    )
    log.append(_event(1))
    report = _report(log)
    assert (report.intact, report.rows, report.before_chain) == (True, 2, 1)
