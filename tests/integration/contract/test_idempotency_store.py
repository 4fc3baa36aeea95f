"""Contract of the idempotency store (fake, SQLite, encrypted SQLite, DynamoDB Local): a key is claimed once while
live, its first answer is kept until it expires, a failed request's claim is released, and an expired key is new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.adapters.crypto import DataKey
from backend.domain.idempotency import IdempotencyRecord, scoped_key
from backend.ports import IdempotencyStore
from tests.helpers.aws_servers import fresh_tables

KEY = scoped_key("nurse", "retry-7f3a")


@pytest.fixture(params=["fake", "sqlite", "sqlite-encrypted", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdempotencyStore]:
    if request.param == "fake":
        from tests.fakes.idempotency import FakeIdempotencyStore

        yield FakeIdempotencyStore()
        return
    if request.param.startswith("sqlite"):
        from backend.adapters.records.sqlite import Database
        from backend.adapters.records.sqlite.idempotency import SqliteIdempotencyStore

        key = DataKey.generate() if request.param.endswith("-encrypted") else None
        yield SqliteIdempotencyStore(Database(tmp_path / "copilot.sqlite3", key))
        return
    from backend.adapters.records.dynamodb.idempotency import DynamoIdempotencyStore

    with fresh_tables() as (ddb, prefix):
        yield DynamoIdempotencyStore(ddb, prefix)


def _pending(fingerprint: str = "fp-1", expires_at: int = 2_000) -> IdempotencyRecord:
    return IdempotencyRecord(KEY, fingerprint, expires_at)


def _done(fingerprint: str = "fp-1", expires_at: int = 100_000) -> IdempotencyRecord:
    headers = {"Location": "/v1/patients/PAT_00000001"}
    return IdempotencyRecord(KEY, fingerprint, expires_at, 201, '{"patient_id": "PAT_00000001"}', headers)


def test_a_key_is_claimed_once_and_its_first_answer_replayed(store: IdempotencyStore) -> None:
    assert store.get(KEY, now_ms=1_000) is None
    assert store.claim(_pending(), now_ms=1_000) is None
    running = store.claim(_pending("fp-2"), now_ms=1_500)  # a second request while the first runs
    assert running is not None and running.pending and running.fingerprint == "fp-1"
    store.complete(_done())
    again = store.claim(_pending(), now_ms=50_000)
    assert again == _done()  # status, body and headers as stored
    assert store.get(KEY, now_ms=50_000) == _done()
    assert store.get(scoped_key("doctor", "retry-7f3a"), now_ms=50_000) is None  # another caller's key


def test_a_failed_request_releases_its_claim_only(store: IdempotencyStore) -> None:
    assert store.claim(_pending(), now_ms=1_000) is None
    store.release(KEY, "fp-other")  # not its claim: kept
    assert store.get(KEY, now_ms=1_001) is not None
    store.release(KEY, "fp-1")
    assert store.get(KEY, now_ms=1_002) is None
    assert store.claim(_pending(), now_ms=1_003) is None  # the retry runs again
    store.complete(_done())
    store.release(KEY, "fp-1")  # a done record is never released
    assert store.get(KEY, now_ms=1_004) == _done()


def test_expired_records_are_gone_and_the_key_is_new(store: IdempotencyStore) -> None:
    assert store.claim(_pending(expires_at=2_000), now_ms=1_000) is None
    assert store.get(KEY, now_ms=2_000) is None  # a crashed request's claim lapses
    assert store.claim(_pending("fp-2", expires_at=3_000), now_ms=2_000) is None
    store.complete(_done("fp-2", expires_at=10_000))
    assert store.get(KEY, now_ms=9_999) is not None
    assert store.get(KEY, now_ms=10_000) is None
    assert store.claim(_pending("fp-3", expires_at=20_000), now_ms=10_000) is None


def test_complete_needs_the_claiming_request(store: IdempotencyStore) -> None:
    assert store.claim(_pending(), now_ms=1_000) is None
    store.complete(_done("fp-other"))  # a request whose claim lapsed and was taken over writes nothing
    current = store.get(KEY, now_ms=1_001)
    assert current is not None and current.pending and current.fingerprint == "fp-1"


def test_a_long_answer_is_kept_whole(store: IdempotencyStore) -> None:
    # A signed note carries its transcript: a long consultation's is far above DynamoDB's 400 KB item limit.
    segments = [{"id": i, "start": i * 4.0, "text": f"turn {i}: the cough is worse at night"} for i in range(9_000)]
    body = '{"transcript": ' + json.dumps(segments) + "}"
    assert len(body) > 600_000
    assert store.claim(_pending(), now_ms=1_000) is None
    store.complete(IdempotencyRecord(KEY, "fp-1", 100_000, 200, body, {"ETag": '"2"'}))
    kept = store.get(KEY, now_ms=1_001)
    assert kept is not None and kept.body == body and kept.headers == {"ETag": '"2"'}
