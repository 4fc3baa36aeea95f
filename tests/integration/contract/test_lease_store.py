"""Contract of the lease store (fake, SQLite, encrypted SQLite, DynamoDB Local): a named run is held by one
owner at a time, taken over only after it expires, and never again once finished."""

from __future__ import annotations

from backend.ports import RecordStore

NAME = "wearable-sync:2026-11-30"


def test_one_owner_at_a_time_and_renewal(record_store: RecordStore) -> None:
    leases = record_store.leases
    assert leases is not None and leases.get(NAME) is None
    held = leases.acquire(NAME, "host-a", now_ms=1_000, ttl_ms=500)
    assert held is not None and (held.owner, held.expires_at, held.done) == ("host-a", 1_500, False)
    assert leases.acquire(NAME, "host-b", now_ms=1_400, ttl_ms=500) is None  # still a's
    renewed = leases.acquire(NAME, "host-a", now_ms=1_400, ttl_ms=500)
    assert renewed is not None and renewed.expires_at == 1_900
    assert leases.acquire(NAME, "host-b", now_ms=1_899, ttl_ms=500) is None
    stored = leases.get(NAME)
    assert stored is not None and (stored.owner, stored.expires_at) == ("host-a", 1_900)


def test_an_expired_holder_is_taken_over_and_cannot_finish(record_store: RecordStore) -> None:
    leases = record_store.leases
    assert leases is not None
    assert leases.acquire(NAME, "host-a", now_ms=1_000, ttl_ms=500) is not None
    taken = leases.acquire(NAME, "host-b", now_ms=1_500, ttl_ms=500)
    assert taken is not None and taken.owner == "host-b"
    assert leases.finish(NAME, "host-a", now_ms=1_600) is False  # a's late finish is refused
    assert leases.acquire(NAME, "host-a", now_ms=1_600, ttl_ms=500) is None


def test_a_finished_lease_is_never_taken_again(record_store: RecordStore) -> None:
    leases = record_store.leases
    assert leases is not None
    assert leases.acquire(NAME, "host-a", now_ms=1_000, ttl_ms=500) is not None
    assert leases.finish(NAME, "host-a", now_ms=1_200, detail="3 imported, 1 failed") is True
    done = leases.get(NAME)
    assert done is not None and done.done and done.done_at == 1_200 and done.detail == "3 imported, 1 failed"
    assert leases.acquire(NAME, "host-b", now_ms=10_000, ttl_ms=500) is None
    assert leases.acquire(NAME, "host-a", now_ms=10_000, ttl_ms=500) is None
    assert leases.finish(NAME, "host-a", now_ms=10_000) is False
    assert leases.get(NAME) == done


def test_release_frees_the_lease_at_once_and_only_for_its_owner(record_store: RecordStore) -> None:
    leases = record_store.leases
    assert leases is not None
    assert leases.acquire(NAME, "host-a", now_ms=1_000, ttl_ms=60_000) is not None
    leases.release(NAME, "host-b")  # not b's: nothing changes
    assert leases.acquire(NAME, "host-b", now_ms=1_001, ttl_ms=500) is None
    leases.release(NAME, "host-a")
    assert leases.acquire(NAME, "host-b", now_ms=1_002, ttl_ms=500) is not None
    assert leases.acquire("wearable-sync:2026-12-01", "host-a", now_ms=1_002, ttl_ms=500) is not None  # per name
