"""Sessions: idle expiry, lock-out, and the server-side session behind the cookie (rotation, tabs, account changes)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.runtime
from backend.domain.errors import AuthenticationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth, sessions
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.fakes.clock import FakeClock
from tests.helpers.apptest import app_data_dir
from ui.session_http import registry

_DOCTORS = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("session-data")
    env = {"COPILOT_DEMO": "1", "COPILOT_SESSION_IDLE_MINUTES": "30"}
    with app_data_dir(path, demo_data=True, demo_days=30, env=env):
        yield path


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The session clock stands still unless a test moves it: no check depends on how long a run takes."""
    fake = FakeClock()
    monkeypatch.setattr(ui.runtime, "clock", fake)
    return fake


def _app(principal: Principal | None, idle_seconds: float) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = principal
    at.session_state["auth_last_seen"] = ui.runtime.clock() - idle_seconds
    return at


def test_idle_session_is_signed_out_with_a_message() -> None:
    at = _app(Principal("doctor", Role.DOCTOR), idle_seconds=31 * 60).run()
    assert not at.exception
    assert at.session_state["auth_principal"] is None
    assert any("signed out after a period of inactivity" in i.value for i in at.info)
    assert at.text_input(key="login_username") is not None  # back on the sign-in page
    assert "PAT_" not in " ".join(m.value for m in at.markdown)


def test_active_session_stays_signed_in(clock: FakeClock) -> None:
    at = _app(Principal("doctor", Role.DOCTOR), idle_seconds=29 * 60).run()
    assert not at.exception
    assert at.session_state["auth_principal"] == Principal("doctor", Role.DOCTOR)
    assert at.session_state["auth_last_seen"] == clock()  # activity refreshes the clock


def _attempt(at: AppTest, username: str, password: str) -> list[str]:
    at.text_input(key="login_username").set_value(username)
    at.text_input(key="login_password").set_value(password)
    at.button[0].click().run()
    return [e.value for e in at.error]


def test_sign_in_page_locks_out_and_audits(data_dir: Path) -> None:
    # Refusals are counted without sleeping (per-client back-off is tested with a fake clock in the unit tests).
    at = _app(None, 0).run()
    for n in range(1, 6):
        errors = _attempt(at, "nurse", f"wrong-password-{n}")
        if n < 5:
            assert errors == ["Wrong username or password."]
    assert errors == ["Too many failed sign-ins: this account is locked for 15 minutes."]
    # Even the right password is refused while locked, and the page says why.
    errors = _attempt(at, "nurse", "nurse-demo")
    assert errors and "locked" in errors[0]
    assert at.session_state["auth_principal"] is None

    # After the lock runs out (moved into the past here), the right password works and the counters reset.
    from backend.bootstrap import build_app
    from backend.config import Settings

    stores = build_app(Settings(data_dir=data_dir)).stores
    user = stores.users.get("nurse")
    stores.users.update(user.model_copy(update={"locked_until": int(time.time() * 1000) - 1}), user.version)
    errors = _attempt(at, "nurse", "nurse-demo")
    assert errors == []
    assert at.session_state["auth_principal"] == Principal("nurse", Role.NURSE)
    assert stores.users.get("nurse").failed_attempts == 0
    actions = [e.action for e in stores.audit.query(actor="nurse", limit=50).items]
    # newest first; the page the nurse lands on then audits what it showed (patient.list.shown ...)
    assert next(a for a in actions if a.startswith("auth.")) == "auth.login"
    assert actions.count("auth.login.failed") == 6 and actions.count("auth.lockout") == 1


def test_unknown_user_and_wrong_password_look_the_same(data_dir: Path) -> None:
    from backend.bootstrap import build_app
    from backend.config import Settings

    stores = build_app(Settings(data_dir=data_dir)).stores
    messages = []
    for username in ("doctor", "no-such-user"):
        with pytest.raises(AuthenticationFailed) as caught:
            auth.login(stores, username, "definitely-wrong")
        messages.append(caught.value.message)
    assert messages[0] == messages[1] == "Wrong username or password."


# --- Sessions kept on the server (what a reload or a link takes up again) -------------------------------------


def _stores(data_dir: Path) -> RecordStore:
    from backend.bootstrap import build_app
    from backend.config import Settings

    return build_app(Settings(data_dir=data_dir)).stores


@pytest.fixture()
def ward_doctor(data_dir: Path) -> Iterator[str]:
    """A fresh doctor account per test (the lock-out test above locks the demo nurse)."""
    name = f"ward-doctor-{next(_DOCTORS)}"
    auth.add_user(_stores(data_dir), name, "ward-doctor-password", Role.DOCTOR)
    yield name


def _signed_in(username: str) -> AppTest:
    at = _app(None, 0).run()
    _attempt(at, username, "ward-doctor-password")
    assert not at.exception and at.session_state["auth_principal"] == Principal(username, Role.DOCTOR)
    return at


def test_sign_in_opens_a_server_session_and_hands_the_page_a_one_time_ticket(
    ward_doctor: str, clock: FakeClock
) -> None:
    at = _signed_in(ward_doctor)
    session_id, ticket = at.session_state["auth_session"], at.session_state["auth_ticket"]
    kept = registry().find(session_id)
    assert kept is not None and kept.principal == Principal(ward_doctor, Role.DOCTOR)
    binder = [h.proto.body for h in at.get("html")]
    assert any(ticket in body and "/_copilot/session" in body for body in binder)
    assert all(session_id not in body for body in binder)  # the session id itself never reaches the page

    assert registry().ticket_pending(session_id, clock())
    cookie = registry().redeem(ticket, clock())  # what the cookie route does with the page's request
    assert cookie is not None and registry().session_id_for_cookie(cookie) == session_id
    assert not registry().ticket_pending(session_id, clock())  # used: the page stops sending it
    assert registry().redeem(ticket, clock()) is None


# After the first signed-in run, AppTest runs the page's file by itself (not the entry file), where the page's
# own check ends the session: so these tests read the notice the sign-in page will show from the session state.


def test_signing_out_in_another_tab_signs_this_tab_out(ward_doctor: str) -> None:
    at = _signed_in(ward_doctor)
    registry().end(at.session_state["auth_session"])  # another tab of the same browser signed out
    at.run()
    assert at.session_state["auth_principal"] is None
    assert at.session_state["auth_notice"] == sessions.ENDED


def test_an_action_in_another_tab_counts_against_idle_expiry(ward_doctor: str, clock: FakeClock) -> None:
    at = _signed_in(ward_doctor)
    session_id = at.session_state["auth_session"]
    clock.pass_seconds(31 * 60)  # this tab idle for 31 minutes ...
    registry().touch(session_id, clock())  # ... while another tab of the session was used just now
    at.run()
    assert at.session_state["auth_principal"] == Principal(ward_doctor, Role.DOCTOR)


def test_a_disabled_account_ends_the_server_session_too(ward_doctor: str, data_dir: Path) -> None:
    at = _signed_in(ward_doctor)
    session_id = at.session_state["auth_session"]
    stores = _stores(data_dir)
    user = stores.users.get(ward_doctor)
    stores.users.update(user.model_copy(update={"disabled": True}), user.version)
    at.run()
    assert at.session_state["auth_principal"] is None
    assert at.session_state["auth_notice"] == sessions.DISABLED
    assert registry().find(session_id) is None  # a reload with the old cookie cannot take it up again
