"""Parallel wrong passwords against the real stores: every attempt counts, the account locks, all is audited."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.domain.errors import AuthenticationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.login_guard import LoginGuard, LoginPolicy
from tests.helpers.aws_servers import fresh_tables
from tests.helpers.passwords import use_cheap_hashes

THREADS, TRIES = 12, 3
NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "dynamodb"])
def record_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    if request.param == "sqlite":
        from backend.adapters.records.sqlite import open_sqlite_store

        yield open_sqlite_store(tmp_path / "copilot.sqlite3")
        return
    with fresh_tables() as (ddb, prefix):
        yield open_dynamodb_store(prefix, client=ddb)


@pytest.fixture
def hashing_watch(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Small argon2 parameters (this checks counting, not hashing cost) and the peak of parallel checks."""
    use_cheap_hashes(monkeypatch)
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()
    real = auth._verify

    def watched(password_hash: str, password: str) -> bool:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        try:
            return real(password_hash, password)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(auth, "_verify", watched)
    return state


def test_parallel_wrong_passwords_all_count_and_lock_the_account(
    record_store: RecordStore, hashing_watch: dict[str, int]
) -> None:
    auth.add_user(record_store, "victim", "the right password", Role.NURSE)
    # A bounded but generous wait for a hashing slot: no attempt may be turned away as busy here.
    guard = LoginGuard(LoginPolicy(max_failures=5, hash_slots=2, hash_wait_seconds=300), clock=lambda: NOW)
    barrier = threading.Barrier(THREADS, timeout=60)
    messages: list[str] = []
    errors: list[BaseException] = []

    def attacker(n: int) -> None:
        try:
            barrier.wait()
            for t in range(TRIES):
                try:
                    auth.login(record_store, "victim", f"guess-{n}-{t}", guard, client=f"10.0.0.{n}")
                except AuthenticationFailed as e:
                    messages.append(e.message)
        except BaseException as e:  # surfaced below: a thread's failure must fail the test
            errors.append(e)

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)

    assert len(messages) == THREADS * TRIES
    assert all(m == "Wrong username or password." or "locked" in m for m in messages)
    victim = record_store.users.get("victim")
    assert victim.failed_attempts == THREADS * TRIES  # not one count lost to a parallel write
    assert victim.locked_until == int(NOW * 1000) + 15 * 60_000
    trail = record_store.audit.query(actor="victim", limit=200).items
    assert sum(e.action == "auth.login.failed" for e in trail) == THREADS * TRIES
    assert [e.action for e in trail].count("auth.lockout") == 1
    assert not any("guess-" in e.detail for e in trail)
    assert 1 <= hashing_watch["peak"] <= 2  # never more argon2 checks at once than slots
    with pytest.raises(AuthenticationFailed, match="locked"):
        auth.login(record_store, "victim", "the right password", guard, client="10.0.0.99")
