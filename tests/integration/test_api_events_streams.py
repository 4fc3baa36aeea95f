"""Live events on AWS: DynamoDB Streams (DynamoDB Local, which implements them) -> the stream consumer -> the
ChangeFeed table, and the same events as SQLite's change log gives. The consumer is driven poll by poll.

Checked: record parsing (insert, status changes, health-data days), checkpoints (a second poll appends
nothing; a later change appends only itself), replay after a lost checkpoint adds nothing, and the Lambda
entry point takes the same records.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.adapters.records.dynamodb.changes import DynamoChangeFeed
from backend.adapters.records.dynamodb.tables import BY_NAME, CHANGES, JOBS, create_tables, delete_tables
from backend.adapters.streams.dynamodb_streams import StreamConsumer
from backend.domain.models import AuditEvent, Job, JobStatus, MetricDay, Note, NoteStatus, Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.change_feed import events_after
from backend.worker import streams as stream_worker
from tests.helpers.aws_servers import client, dynamodb_local, fresh_tables

PID = "PAT_5e000001"
NURSE = Principal("nurse", Role.NURSE)


@dataclass
class Env:
    stores: RecordStore
    feed: DynamoChangeFeed
    consumer: StreamConsumer
    prefix: str
    dynamodb: Any
    streams: Any


@pytest.fixture
def env() -> Iterator[Env]:
    with fresh_tables("s") as (dynamodb, prefix):
        streams = client("dynamodbstreams", dynamodb_local().endpoint_url)
        stores = open_dynamodb_store(prefix, client=dynamodb)
        stores.patients.add(Patient(patient_id=PID, name="Asha Verma", phone="+919812345678"))
        feed = DynamoChangeFeed(dynamodb, prefix)
        yield Env(stores, feed, StreamConsumer(dynamodb, streams, feed, prefix), prefix, dynamodb, streams)


def _job(stores: RecordStore, job_id: str, *steps: tuple[JobStatus, str | None]) -> None:
    stores.jobs.add(Job(job_id=job_id, kind="scribe", patient_id=PID, blob_key="audio/00/" + "0" * 64))
    for status, error in steps:
        job = stores.jobs.get(job_id)
        stores.jobs.update(job.model_copy(update={"status": status, "error": error}), job.version)


def test_stream_records_become_changes_once_and_checkpoints_hold(env: Env) -> None:
    _job(env.stores, "JOB_5e00000000000001", (JobStatus.TRANSCRIBING, None), (JobStatus.READY, None))
    note = env.stores.notes.add(Note(patient_id=PID, author="nurse"))
    edited = env.stores.notes.update(note.model_copy(update={"author": "nurse"}), note.version)  # no status change
    env.stores.notes.update(
        edited.model_copy(update={"status": NoteStatus.SIGNED, "signed_by": "doctor"}), edited.version
    )
    env.stores.metrics.upsert_days(
        MetricDay(patient_id=PID, metric="resting_hr", day=f"2026-11-{d:02d}", value=60.0 + d, unit="bpm")
        for d in (3, 1, 2)
    )

    assert env.consumer.poll_once() == 6
    changes = env.feed.read_after(0, 100)
    assert [c.id for c in changes] == [1, 2, 3, 4, 5, 6]
    by_kind = sorted((c.kind.value, c.state) for c in changes)
    assert by_kind == [
        ("job", "queued"),
        ("job", "ready_for_review"),
        ("job", "transcribing"),
        ("metrics", "imported"),
        ("note", "draft"),
        ("note", "signed"),
    ]
    metrics = next(c for c in changes if c.kind.value == "metrics")
    assert (metrics.ref, metrics.detail["last_day"]) == ("2026-11-01", "2026-11-03")
    drafted = next(c for c in changes if c.state == "draft")
    assert drafted.detail == {"new": True} and drafted.ref == str(note.timestamp)

    assert env.consumer.poll_once() == 0  # every shard is read up to its checkpoint
    env.stores.audit.append(AuditEvent(actor="doctor", role="doctor", action="note.sign", patient_id=PID))
    assert env.consumer.poll_once() == 1  # the audit row; the chain's head item is no change
    audited = env.feed.read_after(6, 10)[-1]
    assert (audited.kind.value, audited.ref, audited.state, audited.detail) == (
        "audit",
        "note.sign",
        "doctor",
        {"role": "doctor"},
    )
    _job(env.stores, "JOB_5e00000000000002", (JobStatus.FAILED, "No speech was heard."))
    assert env.consumer.poll_once() == 2
    failed = env.feed.read_after(7, 10)[-1]
    assert (failed.ref, failed.state, failed.detail["error"]) == (
        "JOB_5e00000000000002",
        "failed",
        "No speech was heard.",
    )
    assert env.feed.last_id() == 9

    # The events a nurse's stream shows from this feed, as from SQLite's change log.
    events, position = events_after(env.feed, NURSE, 0)  # a nurse: no activity
    # Polled table by table (notes, jobs, health data), each table's records in stream order.
    assert [e.type for e in events] == ["note.drafted", "note.signed", "job.ready", "job.failed"]
    assert position == 9
    doctor_events, _ = events_after(env.feed, Principal("doctor", Role.DOCTOR), 0)
    assert [e.type for e in doctor_events].count("activity") == 1


def test_a_replay_after_a_lost_checkpoint_appends_nothing(env: Env) -> None:
    _job(env.stores, "JOB_5e00000000000003", (JobStatus.READY, None))
    assert env.consumer.poll_once() == 2
    # The consumer died after appending but before saving its checkpoints: they are gone.
    table = env.prefix + CHANGES
    items = env.dynamodb.scan(TableName=table)["Items"]
    for item in items:
        if item["feed"]["S"].startswith("checkpoint#"):
            env.dynamodb.delete_item(TableName=table, Key={"feed": item["feed"], "seq": item["seq"]})
    assert env.consumer.poll_once() == 0
    assert env.feed.last_id() == 2


def test_the_lambda_entry_takes_the_same_records(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _job(env.stores, "JOB_5e00000000000004", (JobStatus.FAILED, "Damaged file."))
    arn = env.dynamodb.describe_table(TableName=env.prefix + JOBS)["Table"]["LatestStreamArn"]
    shard = env.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = env.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = env.streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    for record in records:
        record["eventSourceARN"] = arn  # Lambda adds the source to every record of a batch
    monkeypatch.setenv("COPILOT_TABLE_PREFIX", env.prefix)
    monkeypatch.setattr(stream_worker, "_FEED", [env.feed])
    assert stream_worker.handler({"Records": records})["appended"] == 2
    assert stream_worker.handler({"Records": records})["appended"] == 0  # Lambda retried the batch
    assert [c.state for c in env.feed.read_after(0)] == ["queued", "failed"]


def test_create_tables_turns_on_the_streams_of_tables_made_without_them() -> None:
    server = dynamodb_local()
    prefix = f"o{uuid.uuid4().hex[:8]}-"
    dynamodb = server.client()
    old = dict(BY_NAME[JOBS].create_params(prefix))
    old.pop("StreamSpecification")  # a Jobs table from before live events
    dynamodb.create_table(**old)
    try:
        changed = create_tables(dynamodb, prefix)
        assert changed[prefix + JOBS] == "stream on"
        described = dynamodb.describe_table(TableName=prefix + JOBS)["Table"]
        assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert prefix + JOBS not in create_tables(dynamodb, prefix)  # nothing left to do
    finally:
        delete_tables(dynamodb, prefix)
