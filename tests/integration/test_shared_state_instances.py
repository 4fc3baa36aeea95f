"""Two instances over one SQLite file (as two UI or API tasks behind a load balancer share one store): a session
opened on one is honoured and ended on the other, a rate-limit bucket and the sign-in throttles are spent
together, and racing instances never let more requests through than the bucket holds.

Each instance opens the file itself (its own connections, as another process would), on clocks the test holds.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient

from backend.adapters.records.sqlite import open_sqlite_store
from backend.api.app import create_app
from backend.api.ratelimit import RateLimiter
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.ports import RecordStore, SharedState
from backend.services import sessions
from backend.services.access import Principal
from backend.services.auth import add_user
from backend.services.login_guard import LoginGuard, LoginPolicy
from backend.services.session_registry import SessionRegistry
from tests.helpers.api_client import api_harness

NOW = 1_000_000.0
IDLE_S = 1800.0


def _two(tmp_path: Path) -> tuple[RecordStore, RecordStore]:
    path = tmp_path / "copilot.sqlite3"
    return open_sqlite_store(path), open_sqlite_store(path)


def _state(stores: RecordStore) -> SharedState:
    assert stores.state is not None
    return stores.state


def test_a_session_opened_on_one_instance_is_honoured_and_ended_on_the_other(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    add_user(a, "nurse", "nurse-password-1", Role.NURSE)
    on_a, on_b = SessionRegistry(state=_state(a)), SessionRegistry(state=_state(b))
    principal = Principal("nurse", Role.NURSE)
    stamp = sessions.stamp_session(a, principal)
    assert stamp is not None
    session_id, ticket = on_a.open(principal, stamp, sso=False, now_s=NOW, idle_limit_s=IDLE_S)

    cookie = on_b.redeem(ticket, NOW + 1)  # the cookie request reached the other instance
    assert cookie is not None and on_a.redeem(ticket, NOW + 1) is None  # still single use, across instances
    assert on_a.session_id_for_cookie(cookie) == session_id  # both sign with the same stored key
    kept = on_b.find(session_id)
    assert kept is not None and kept.principal == principal and kept.stamp == stamp
    on_a.touch(session_id, NOW + 600)
    kept = on_b.find(session_id)
    assert kept is not None and kept.last_action_s == NOW + 600  # an action on one counts on the other

    # A password change made through either instance ends the session for the other's next check.
    user = a.users.get("nurse")
    a.users.update(user.model_copy(update={"password_hash": user.password_hash + "x"}), user.version)
    assert sessions.session_problem(b, kept.stamp, kept.last_action_s, NOW + 601, IDLE_S) == sessions.NEW_CREDENTIAL
    on_b.end(session_id)  # sign-out on b ...
    assert on_a.find(session_id) is None  # ... is a sign-out on a


def test_a_bucket_is_spent_once_across_instances_over_http(tmp_path: Path) -> None:
    clock = lambda: NOW  # noqa: E731 - the clock both instances read, held still
    first = api_harness(tmp_path, clock=clock, api_rate_per_minute=5, demo=False)  # bursts of 1
    options = {"store": "sqlite", "blobs": "local", "queue": "sqlite", "llm": "offline", "api_rate_per_minute": 5}
    second = TestClient(create_app(build_app(Settings(data_dir=tmp_path, **options)), clock=clock))
    nurse = first.auth("nurse")
    assert first.client.get("/v1/patients", headers=nurse).status_code == 200
    refused = second.get("/v1/patients", headers=nurse)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "12"
    assert first.client.get("/v1/patients", headers=first.auth("doctor")).status_code == 200  # per token


def test_racing_instances_let_exactly_the_bucket_through(tmp_path: Path) -> None:
    """Four threads on two instances ask 60 times each of a 120-request bucket: 120 pass, the 121st never."""
    a, b = _two(tmp_path)
    limiters = [RateLimiter(120, burst=120, clock=lambda: NOW, state=_state(s)) for s in (a, b)]
    allowed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def hammer(limiter: RateLimiter) -> None:
        try:
            passed = sum(1 for _ in range(60) if limiter.take("token-1") == 0.0)
            with lock:
                allowed.append(passed)
        except BaseException as e:  # a thread's error must fail the test, not vanish
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(limiters[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and sum(allowed) == 120
    assert limiters[0].take("token-1") > 0 and limiters[1].take("token-1") > 0


def test_sign_in_failures_count_on_every_instance(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    policy = LoginPolicy(client_free_failures=1, client_max_failures=3)
    now = [NOW]
    guards = [LoginGuard(policy, clock=lambda: now[0], state=_state(s)) for s in (a, b)]
    assert guards[0].admit("10.0.0.7") is None
    guards[0].count_client("10.0.0.7")
    guards[0].settle("10.0.0.7")
    assert guards[1].admit("10.0.0.7") is None
    guards[1].count_client("10.0.0.7")  # past the free failure: a back-off, which the other instance applies
    guards[1].settle("10.0.0.7")
    assert (
        guards[0].admit("10.0.0.7") == "Too many failed sign-ins from this computer: wait 1 second(s), then try again."
    )
    now[0] += 1
    assert guards[0].admit("10.0.0.7") is None
    guards[0].count_client("10.0.0.7")  # the third: blocked, on both
    guards[0].settle("10.0.0.7")
    refusal = guards[1].admit("10.0.0.7")
    assert refusal is not None and "try again in 15 minute(s)" in refusal
    assert guards[0].client_wait("10.0.0.7") == 15 * 60
    assert guards[1].admit("10.0.0.8") is None  # another address is not blocked
    for _ in range(4):  # names without an account lock alike on both
        guards[0].count_name("ghost")
    assert guards[1].count_name("ghost").just_locked
    assert guards[0].name_locked_until("ghost") == guards[1].name_locked_until("ghost") > 0
