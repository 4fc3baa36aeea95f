"""Sign-in limits under parallel attempts, against a real SQLite store: per client, server-wide, and locked names.

The clock is a fake moved by hand, so back-off and windows are exact; argon2 runs with small parameters (these
tests count checks, not their cost), and a gate holds every admitted password check until the whole burst has
been admitted or refused, so the burst is truly parallel on any machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import AuthenticationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.login_guard import GLOBAL, IN_FLIGHT, LoginGuard, LoginPolicy
from tests.helpers.passwords import use_cheap_hashes

NOW = 1_700_000_000.0
BURST = 12


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def stores(tmp_path: Path) -> RecordStore:
    return open_sqlite_store(tmp_path / "copilot.sqlite3")


class Checks:
    """Counts password checks; with ``gated`` each check waits for :meth:`open` (bounded)."""

    def __init__(self) -> None:
        self.count = 0
        self.inside = 0
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def open(self) -> None:
        self.gate.set()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checks]:
    use_cheap_hashes(monkeypatch)
    state = Checks()
    state.gate.set()
    real = auth._verify

    def counted(password_hash: str, password: str) -> bool:
        with state.changed:
            state.count += 1
            state.inside += 1
            state.changed.notify_all()
        assert state.gate.wait(timeout=60), "the test never opened the gate"
        return real(password_hash, password)

    monkeypatch.setattr(auth, "_verify", counted)
    yield state


def _burst(stores: RecordStore, guard: LoginGuard, checks: Checks, client: str) -> list[str]:
    """BURST parallel wrong sign-ins from one client (one name each: spraying); the refusals' messages."""
    checks.gate.clear()
    messages: list[str] = []
    done = 0
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        nonlocal done
        try:
            auth.login(stores, f"user{n}", "guess", guard, client=client)
        except AuthenticationFailed as e:
            with checks.changed:
                messages.append(e.message)
        except BaseException as e:  # surfaced below
            errors.append(e)
        finally:
            with checks.changed:
                done += 1
                checks.changed.notify_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(BURST)]
    for t in threads:
        t.start()
    with checks.changed:
        # Every attempt is either inside its password check or finished: the whole burst was admitted or refused.
        assert checks.changed.wait_for(lambda: checks.inside + done >= BURST, timeout=60)
    checks.open()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)
    return messages


def test_a_parallel_burst_from_one_client_gets_no_more_checks_than_its_limit(
    stores: RecordStore, checks: Checks
) -> None:
    policy = LoginPolicy(client_free_failures=3, client_max_failures=6, hash_slots=BURST, hash_wait_seconds=60)
    guard = LoginGuard(policy, clock=Clock())
    messages = _burst(stores, guard, checks, client="10.0.0.7")

    assert len(messages) == BURST
    # The free failures may run together, one more at most; the rest wait for their turn (before: all 12 ran).
    assert checks.count <= policy.client_free_failures + 1
    assert IN_FLIGHT in messages and all(m in (auth.WRONG, IN_FLIGHT) or "from this computer" in m for m in messages)
    # Afterwards the client waits (back-off) however it sends, and another client is not affected.
    assert "from this computer" in _burst(stores, guard, checks, client="10.0.0.7")[0]
    assert checks.count <= policy.client_free_failures + 1
    with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
        auth.login(stores, "user0", "guess", guard, client="10.0.0.8")


def test_failures_from_many_clients_start_a_server_wide_limit(stores: RecordStore, checks: Checks) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    policy = LoginPolicy(global_free_failures=5, global_interval_seconds=2.0)
    clock = Clock()
    guard = LoginGuard(policy, clock=clock)
    for n in range(5):  # each client stays far below its own limit
        with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
            auth.login(stores, f"user{n}", "guess", guard, client=f"10.1.0.{n}")
    trail = stores.audit.query(actor=auth.CLIENT_ACTOR, limit=10).items
    assert [e.action for e in trail] == ["auth.lockout.global"]

    with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
        auth.login(stores, "user5", "guess", guard, client="10.1.0.5")  # one attempt per interval still runs
    before = checks.count
    with pytest.raises(AuthenticationFailed) as caught:
        auth.login(stores, "asha", "correct horse", guard, client="10.1.0.6")
    assert caught.value.message == GLOBAL.format(seconds=2) and checks.count == before  # not even checked

    clock.t += 2
    assert auth.login(stores, "asha", "correct horse", guard, client="10.1.0.6").username == "asha"
    clock.t += 15 * 60 + 1  # the window ends: attempts run freely again
    for n in range(3):
        with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
            auth.login(stores, f"user{n}", "guess", guard, client="10.1.0.9")


def test_a_locked_account_and_a_locked_unknown_name_answer_alike_with_the_same_work(
    stores: RecordStore, checks: Checks
) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    guard = LoginGuard(LoginPolicy(max_failures=3), clock=Clock())
    answers: dict[str, list[str]] = {}
    work: dict[str, int] = {}
    for n, name in enumerate(("asha", "nobody")):
        before = checks.count
        answers[name] = []
        for _ in range(5):
            with pytest.raises(AuthenticationFailed) as caught:
                auth.login(stores, name, "wrong horse", guard, client=f"10.2.0.{n}")
            answers[name].append(caught.value.message)
        work[name] = checks.count - before
    assert answers["asha"] == answers["nobody"]
    assert "locked" in answers["asha"][-1]
    assert work["asha"] == work["nobody"] == 3  # both checked until locked, neither checked while locked
