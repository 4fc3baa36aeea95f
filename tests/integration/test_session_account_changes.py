"""Open sessions follow account changes, and only user actions keep a session alive (AppTest, real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth, sessions
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.helpers.apptest import app_data_dir

ADMIN = Principal("admin", Role.ADMIN)
T0 = 2_000_000_000.0


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordStore]:
    path = tmp_path_factory.mktemp("session-changes")
    env = {"COPILOT_DEMO": "1", "COPILOT_SESSION_IDLE_MINUTES": "30"}
    with app_data_dir(path, demo_data=True, demo_days=30, env=env) as app:
        yield app.stores


class Clock:
    """The session clock, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import ui.runtime

    c = Clock(T0)
    monkeypatch.setattr(ui.runtime, "clock", c)
    return c


def _user(stores: RecordStore, name: str, role: Role = Role.DOCTOR) -> Principal:
    auth.add_user(stores, name, f"{name}-password", role)
    return Principal(name, role)


_CARRIED = ("auth_principal", "auth_last_seen", "auth_stamp", "auth_notice", "auth_quiet_rerun")


def _signed_in(principal: Principal, last_action: float) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = principal
    at.session_state["auth_last_seen"] = last_action
    return at


def _next_run(at: AppTest, **state: object) -> AppTest:
    """The session's next full run through the entry file (AppTest's own reruns start at the page it was on)."""
    nxt = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    for key in _CARRIED:
        if key in at.session_state:
            nxt.session_state[key] = at.session_state[key]
    for key, value in state.items():
        nxt.session_state[key] = value
    return nxt.run()


def _signed_out_with(at: AppTest, message: str) -> None:
    assert not at.exception
    assert at.session_state["auth_principal"] is None
    assert any(message in i.value for i in at.info), [i.value for i in at.info]
    assert at.text_input(key="login_username") is not None  # back on the sign-in page


def test_disabling_an_account_ends_its_open_session(stores: RecordStore, clock: Clock) -> None:
    who = _user(stores, "dr-disabled")
    at = _signed_in(who, T0).run()
    assert at.session_state["auth_principal"] == who
    auth.set_disabled(stores, ADMIN, who.username, True)
    clock.now += 5
    _signed_out_with(_next_run(at), sessions.DISABLED)


def test_a_page_rerun_also_checks_the_account(stores: RecordStore, clock: Clock) -> None:
    who = _user(stores, "dr-page-rerun")
    at = _signed_in(who, T0).run()
    auth.set_disabled(stores, ADMIN, who.username, True)
    at.run()  # a rerun that starts at the page itself: the page's own check ends the session
    assert not at.exception
    assert at.session_state["auth_principal"] is None
    assert at.session_state["auth_notice"] == sessions.DISABLED
    assert "PAT_" not in " ".join(m.value for m in at.markdown)


def test_a_new_password_ends_sessions_begun_with_the_old_one(stores: RecordStore, clock: Clock) -> None:
    who = _user(stores, "dr-newpass")
    at = _signed_in(who, T0).run()
    assert at.session_state["auth_principal"] == who
    auth.set_password(stores, ADMIN, who.username, "a-new-password")  # e.g. reset after a lost laptop
    clock.now += 5
    _signed_out_with(_next_run(at), sessions.NEW_CREDENTIAL)


def test_user_actions_keep_the_session_and_automatic_refreshes_do_not(stores: RecordStore, clock: Clock) -> None:
    who = _user(stores, "dr-idle")
    at = _signed_in(who, T0).run()
    assert at.session_state["auth_last_seen"] == T0
    clock.now = T0 + 20 * 60
    at = _next_run(at)  # a user action 20 minutes later
    assert at.session_state["auth_last_seen"] == T0 + 20 * 60
    # The dashboard's poll found news and reran the app: that is not the user, so the clock does not move.
    clock.now = T0 + 45 * 60
    at = _next_run(at, auth_quiet_rerun=True)
    assert at.session_state["auth_principal"] == who
    assert at.session_state["auth_last_seen"] == T0 + 20 * 60
    # 31 minutes after the last action the next run, poll or not, signs out.
    clock.now = T0 + 51 * 60
    _signed_out_with(_next_run(at, auth_quiet_rerun=True), "signed out after a period of inactivity")


def test_the_dashboard_poll_redraws_in_place_and_does_not_count(
    stores: RecordStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """News found by the poll redraws the dashboard's own fragment: no app rerun (one started by the timer
    carries the dashboard and could undo the doctor's click on another page), and the poll is not an action."""
    import streamlit

    def no_app_rerun(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dashboard's poll must not rerun the app")

    monkeypatch.setattr(streamlit, "rerun", no_app_rerun)
    who = _user(stores, "dr-dashboard")
    at = _signed_in(who, T0)
    at.session_state["dashboard_checked"] = 0  # every demo note is news to this poll
    at.run()  # the doctor's first page is the dashboard
    assert not at.exception
    assert at.title[0].value == "Dashboard"
    assert any(h.value.startswith("Drafts waiting for signature") for h in at.subheader)
    assert "dashboard_view" in at.session_state  # the lists, read again because there was news
    assert at.session_state["dashboard_checked"] > 0
    assert at.session_state["auth_principal"] == who
    assert at.session_state["auth_last_seen"] == T0


def test_a_session_of_an_account_that_is_gone_ends(stores: RecordStore, clock: Clock) -> None:
    at = _signed_in(Principal("nobody-here", Role.DOCTOR), T0).run()
    _signed_out_with(at, sessions.DISABLED)


def test_a_role_change_ends_the_session(stores: RecordStore, clock: Clock) -> None:
    who = _user(stores, "dr-demoted")
    at = _signed_in(who, T0).run()
    user = stores.users.get(who.username)
    stores.users.update(user.model_copy(update={"role": Role.NURSE}), user.version)
    at = _next_run(at)
    _signed_out_with(at, sessions.ROLE_CHANGED)
