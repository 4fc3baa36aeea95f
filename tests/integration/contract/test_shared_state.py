"""Contract of the shared state (fake, SQLite, encrypted SQLite, DynamoDB Local): values under a key with an
expiry, atomic read-modify-writes, and two store objects over one backend seeing the same entries."""

from __future__ import annotations

import threading
from typing import Any

from backend.ports import RecordStore, SharedState, StateWrite

# Far in the future: DynamoDB Local runs the table's TTL on the real clock and deletes items whose expiry
# (seconds) has passed, which an injected clock in the past would make happen mid-test.
NOW = 4_000_000_000_000


def _state(record_store: RecordStore) -> SharedState:
    assert record_store.state is not None
    return record_store.state


def _put(value: dict[str, Any], expires_at_ms: int) -> Any:
    return lambda current: (StateWrite(value, expires_at_ms), current)


def test_a_value_is_kept_until_it_expires_then_reads_as_absent(record_store: RecordStore) -> None:
    state = _state(record_store)
    assert state.get("session:a") is None
    previous = state.update("session:a", _put({"user": "nurse", "tabs": ["t1"]}, NOW + 1_000), NOW)
    assert previous is None
    assert state.get("session:a") == {"user": "nurse", "tabs": ["t1"]}
    assert state.get("session:a", now_ms=NOW + 999) == {"user": "nurse", "tabs": ["t1"]}
    assert state.get("session:a", now_ms=NOW + 1_000) is None
    # An update after the expiry sees nothing: an expired bucket or lock never carries over.
    assert state.update("session:a", lambda current: (None, current), NOW + 1_000) is None
    assert state.get("session:b") is None  # per key


def test_update_sees_the_current_value_and_may_leave_or_delete_it(record_store: RecordStore) -> None:
    state = _state(record_store)
    state.update("bucket:k", _put({"tokens": 3}, NOW + 60_000), NOW)
    seen = state.update("bucket:k", lambda c: (StateWrite({"tokens": c["tokens"] - 1}, NOW + 60_000), c), NOW)
    assert seen == {"tokens": 3} and state.get("bucket:k") == {"tokens": 2}
    assert state.update("bucket:k", lambda c: (None, "kept"), NOW) == "kept"
    assert state.get("bucket:k") == {"tokens": 2}
    assert state.update("bucket:k", lambda c: (StateWrite(None), c["tokens"]), NOW) == 2
    assert state.get("bucket:k") is None
    state.delete("bucket:k")  # deleting what is gone is harmless
    state.update("bucket:k", _put({"tokens": 1}, NOW + 60_000), NOW)
    state.delete("bucket:k")
    assert state.get("bucket:k") is None


def test_concurrent_updates_of_one_key_lose_nothing(record_store: RecordStore) -> None:
    """Four threads each add 1 ten times: every increment lands (no two read the same value and both write)."""
    state = _state(record_store)

    def increment(current: dict[str, Any] | None) -> tuple[StateWrite, int]:
        n = (current or {"n": 0})["n"] + 1
        return StateWrite({"n": n}, NOW + 600_000), n

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                state.update("counter", increment, NOW)
        except BaseException as e:  # a thread's error must fail the test, not vanish
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and state.get("counter") == {"n": 40}
