"""Faults on the DynamoDB adapter: throttling, stale versions, transactions, reserved words.

Throttling is injected at the HTTP layer (a ``before-send`` hook answering 400
ProvisionedThroughputExceededException), so botocore's real adaptive retry loop runs;
botocore's Stubber would short-circuit before retries and prove nothing about them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.domain.errors import ConcurrentUpdate, StoreUnavailable
from backend.domain.models import Note, Patient
from tests.helpers.aws_servers import dynamodb_local, fresh_tables


@pytest.fixture(scope="module")
def tables() -> Iterator[tuple[Any, str]]:
    with fresh_tables("f") as (_, prefix):
        yield dynamodb_local(), prefix


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Throttle:
    """Answers the first ``times`` requests of ``operation`` with a throttling error; counts attempts."""

    def __init__(self, operation: str, times: int) -> None:
        self.operation, self.times, self.attempts = operation, times, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target", b"").decode().split(".")[-1] != self.operation:
            return None
        self.attempts += 1
        if self.attempts > self.times:
            return None
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "slow down",
            }
        ).encode()
        headers = {"x-amzn-RequestId": "fake", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Raw(body))


def _throttled_store(server: Any, prefix: str, times: int, max_attempts: int) -> tuple[Any, Throttle]:
    client = server.client(max_attempts=max_attempts)
    throttle = Throttle("GetItem", times)
    client.meta.events.register("before-send.dynamodb.GetItem", throttle)
    return open_dynamodb_store(prefix, client=client), throttle


def test_throttling_is_retried_then_succeeds(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    open_dynamodb_store(prefix, client=server.client()).patients.add(
        Patient(patient_id="PAT_0000000a", name="Asha Rao")
    )
    store, throttle = _throttled_store(server, prefix, times=2, max_attempts=4)
    assert store.patients.get("PAT_0000000a").name == "Asha Rao"
    assert throttle.attempts == 3  # two throttled, the third went through


def test_persistent_throttling_gives_a_clear_error(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    store, throttle = _throttled_store(server, prefix, times=100, max_attempts=3)
    with pytest.raises(StoreUnavailable, match="throttling") as info:
        store.patients.get("PAT_0000000a")
    assert throttle.attempts == 1 + 3  # botocore's max_attempts counts retries after the first try
    assert "capacity" in info.value.message


def test_stale_version_overwrites_nothing(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    a = open_dynamodb_store(prefix, client=server.client())
    b = open_dynamodb_store(prefix, client=server.client())
    note = a.notes.add(Note(patient_id="PAT_0000000b", timestamp=1, sections={"plan": "original"}))
    mine = a.notes.get(note.patient_id, note.timestamp)
    theirs = b.notes.get(note.patient_id, note.timestamp)
    b.notes.update(theirs.model_copy(update={"sections": {"plan": "theirs"}}), theirs.version)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        a.notes.update(mine.model_copy(update={"sections": {"plan": "mine"}}), mine.version)
    assert a.notes.get(note.patient_id, note.timestamp).sections == {"plan": "theirs"}


def test_patient_and_name_index_change_in_one_transaction(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    client = server.client()
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    store = open_dynamodb_store(prefix, client=client)
    patient = Patient(patient_id="PAT_0000000c", name="Kavya Menon")
    store.patients.add(patient)
    assert calls == ["TransactWriteItems"]
    # A stale rename fails as a whole: neither the patient nor its index items change.
    store.patients.update(patient.model_copy(update={"name": "Kavya Nair"}), 1)
    with pytest.raises(ConcurrentUpdate):
        store.patients.update(patient.model_copy(update={"name": "Kavya Bose"}), 1)
    assert store.patients.get(patient.patient_id).name == "Kavya Nair"
    assert store.patients.search_name("bose") == [] and store.patients.search_name("menon") == []
    assert [p.name for p in store.patients.search_name("kavya nai")] == ["Kavya Nair"]


def test_reserved_word_timestamp_is_always_aliased(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    client = server.client()
    # DynamoDB Local rejects an unaliased reserved word exactly as AWS does; prove it, then prove we alias.
    with pytest.raises(client.exceptions.ClientError, match="reserved keyword"):
        client.query(
            TableName=prefix + "PatientNotes",
            KeyConditionExpression="patient_id = :p AND timestamp > :t",
            ExpressionAttributeValues={":p": {"S": "x"}, ":t": {"N": "0"}},
        )
    store = open_dynamodb_store(prefix, client=client)
    store.notes.add(Note(patient_id="PAT_0000000d", timestamp=5))
    assert store.notes.add(Note(patient_id="PAT_0000000d", timestamp=5)).timestamp == 6


def test_no_request_path_scans(tables: tuple[Any, str]) -> None:
    server, prefix = tables
    client = server.client()
    ops: set[str] = set()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: ops.add(model.name))
    s = open_dynamodb_store(prefix, client=client)
    s.patients.search_name("kav")
    s.patients.find_by_phone("+919000000000")
    s.patients.list_page()
    s.patients.count()
    s.users.list_all()
    s.audit.query()
    s.notes.changed_since(0)
    s.metrics.patients_with_metrics()
    s.metrics.days("P")
    assert "Scan" not in ops and "Query" in ops
