"""A SQLite file and DynamoDB tables written by the previous version open: old note and job rows read typed.

The rows are written as the previous version wrote them (raw SQL, raw PutItem), then read through every query
of the stores; an upgraded note saved again is stored in today's shape.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.adapters.records.dynamodb.notes import change_shard
from backend.adapters.records.dynamodb.tables import JOBS, NOTES
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.models import JobStatus
from backend.domain.note_content import CitedText, Diagnosis
from backend.ports import RecordStore
from tests.helpers.aws_servers import fresh_tables
from tests.unit.test_legacy_rows import OLD_NOTE

OLD_JOB: dict[str, Any] = {
    "version": 1, "job_id": "JOB_00000000000000aa", "kind": "scribe", "patient_id": OLD_NOTE["patient_id"],
    "blob_key": "audio/ab/abcdef", "status": "queued", "attempts": 0, "error": None, "result_note_ts": None,
    "created_by": "nurse", "created_at": 1_700_000_000_000, "updated_at": 1_700_000_000_000,
    "params": {"filename": "visit.wav", "source": "upload", "duration_s": 61.5, "codec": "pcm_s16le"},
}  # fmt: skip


def _write_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO notes (patient_id, ts, status, updated_at, version, body) VALUES (?, ?, ?, ?, ?, ?)",
            (OLD_NOTE["patient_id"], OLD_NOTE["timestamp"], "draft", OLD_NOTE["updated_at"], OLD_NOTE["version"],
             json.dumps(OLD_NOTE)),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO jobs (job_id, patient_id, status, updated_at, version, body) VALUES (?, ?, ?, ?, ?, ?)",
            (OLD_JOB["job_id"], OLD_JOB["patient_id"], "queued", OLD_JOB["updated_at"], 1, json.dumps(OLD_JOB)),
        )
    conn.close()


def _item(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A low-level item as the previous version's adapter wrote it (numbers as Decimal, no None values)."""
    plain = json.loads(json.dumps({**data, **extra}), parse_float=Decimal)
    return {k: TypeSerializer().serialize(v) for k, v in plain.items() if v is not None}


@pytest.fixture(params=["sqlite", "dynamodb"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    if request.param == "sqlite":
        path = tmp_path / "copilot.sqlite3"
        open_sqlite_store(path)  # today's schema: the old version's tables had the same columns
        _write_sqlite(path)
        yield open_sqlite_store(path)
        return
    with fresh_tables() as (ddb, prefix):
        shard = change_shard(OLD_NOTE["patient_id"])
        ddb.put_item(TableName=prefix + NOTES, Item=_item(OLD_NOTE, change_shard=shard, draft_shard=shard))
        ddb.put_item(TableName=prefix + JOBS, Item=_item(OLD_JOB))
        yield open_dynamodb_store(prefix, client=ddb)


def test_an_old_note_reads_typed_through_every_query(old_store: RecordStore) -> None:
    pid, ts = OLD_NOTE["patient_id"], OLD_NOTE["timestamp"]
    note = old_store.notes.get(pid, ts)
    assert note.chief_complaint == CitedText(text="cough", segment_ids=[1])
    assert note.diagnoses == [Diagnosis(text="bronchitis", certainty="possible", unverified=True, segment_ids=[2])]
    assert note.vitals[0].plausible is False and note.vitals[1].value == "88"
    assert note.provenance.unsupported == OLD_NOTE["unsupported"]
    assert note.provenance.recovered_names[0].drug == "lisinopril" and note.style == "brief"
    assert old_store.notes.list_for_patient(pid).items == [note]
    assert old_store.notes.drafts() == [note]
    assert old_store.notes.changed_since(0) == [note]


def test_an_old_note_saved_again_is_stored_in_the_new_shape(old_store: RecordStore) -> None:
    note = old_store.notes.get(OLD_NOTE["patient_id"], OLD_NOTE["timestamp"])
    saved = old_store.notes.update(note.model_copy(update={"edited_by": "doctor"}), note.version)
    again = old_store.notes.get(note.patient_id, note.timestamp)
    assert again == saved and again.version == OLD_NOTE["version"] + 1
    assert again.content == note.content and again.edited_by == "doctor"


def test_an_old_job_reads_its_params_as_fields(old_store: RecordStore) -> None:
    job = old_store.jobs.get(OLD_JOB["job_id"])
    assert (job.filename, job.source, job.duration_s, job.codec) == ("visit.wav", "upload", 61.5, "pcm_s16le")
    assert old_store.jobs.list_by_status(JobStatus.QUEUED) == [job]
    assert old_store.jobs.list_for_patient(OLD_JOB["patient_id"]) == [job]
    updated = old_store.jobs.update(job.model_copy(update={"status": JobStatus.TRANSCRIBING}), job.version)
    assert old_store.jobs.get(job.job_id) == updated and updated.filename == "visit.wav"
