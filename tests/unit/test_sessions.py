"""The session check: idle time from user actions only, and the account as it is now."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import streamlit as st

from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth, sessions
from backend.services.access import Principal
from tests.fakes.records import fake_record_store
from ui import runtime
from ui.session_http import registry

ADMIN = Principal("boss", Role.ADMIN)
DOCTOR = Principal("doctor", Role.DOCTOR)
IDLE_S = 30 * 60
T0 = 1_000_000.0


@pytest.fixture()
def stores() -> RecordStore:
    s = fake_record_store()
    auth.add_user(s, "boss", "boss-password", Role.ADMIN)
    auth.add_user(s, "doctor", "doctor-password", Role.DOCTOR)
    return s


def _stamp(stores: RecordStore) -> sessions.SessionStamp:
    stamp = sessions.stamp_session(stores, DOCTOR)
    assert stamp is not None
    return stamp


def test_unchanged_account_within_the_idle_limit_goes_on(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    assert sessions.session_problem(stores, stamp, last_action_s=T0, now_s=T0 + IDLE_S - 1, idle_limit_s=IDLE_S) is None


def test_idle_time_counts_from_the_last_user_action(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    problem = sessions.session_problem(stores, stamp, last_action_s=T0, now_s=T0 + IDLE_S + 1, idle_limit_s=IDLE_S)
    assert problem == sessions.IDLE


def test_disabled_account_ends_the_session(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    auth.set_disabled(stores, ADMIN, "doctor", True)
    assert sessions.session_problem(stores, stamp, T0, T0, IDLE_S) == sessions.DISABLED
    assert sessions.stamp_session(stores, DOCTOR) is None  # and no new session can be stamped


def test_new_password_ends_the_session_even_if_it_is_the_same_text(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    auth.set_password(stores, ADMIN, "doctor", "doctor-password")  # reset to the same text: a new salted hash
    assert sessions.session_problem(stores, stamp, T0, T0, IDLE_S) == sessions.NEW_CREDENTIAL
    # A session begun after the change is fine.
    assert sessions.session_problem(stores, _stamp(stores), T0, T0, IDLE_S) is None


def test_failed_sign_ins_by_someone_else_do_not_end_the_session(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    user = stores.users.get("doctor")
    stores.users.update(user.model_copy(update={"failed_attempts": 5, "locked_until": 10**15}), user.version)
    assert sessions.session_problem(stores, stamp, T0, T0, IDLE_S) is None


def test_role_change_and_removed_account_end_the_session(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    user = stores.users.get("doctor")
    stores.users.update(user.model_copy(update={"role": Role.NURSE}), user.version)
    assert sessions.session_problem(stores, stamp, T0, T0, IDLE_S) == sessions.ROLE_CHANGED
    del stores.users.rows["doctor"]  # type: ignore[attr-defined]
    assert sessions.session_problem(stores, stamp, T0, T0, IDLE_S) == sessions.DISABLED


def test_the_stamp_never_holds_the_password_hash(stores: RecordStore) -> None:
    stamp = _stamp(stores)
    assert stores.users.get("doctor").password_hash not in repr(stamp)


# --- The tab's side (ui.runtime) over the server-side session table, in a bare Streamlit session -------------


@pytest.fixture()
def tab(stores: RecordStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    app = SimpleNamespace(stores=stores, settings=SimpleNamespace(session_idle_minutes=IDLE_S // 60))
    monkeypatch.setattr(runtime, "get_app", lambda: app)
    monkeypatch.setattr(runtime, "clock", lambda: T0)
    st.session_state.clear()
    runtime.init_session()
    yield
    st.session_state.clear()


def test_every_sign_in_rotates_the_server_session(tab: None) -> None:
    runtime.sign_in(DOCTOR)
    first = st.session_state[runtime.SESSION]
    runtime.sign_in(DOCTOR)
    second = st.session_state[runtime.SESSION]
    assert first != second
    assert registry().find(first) is None  # the earlier id opens nothing any more
    kept = registry().find(second)
    assert kept is not None and kept.principal == DOCTOR and registry().ticket_pending(second, T0)


def test_sign_out_ends_the_server_session(tab: None) -> None:
    runtime.sign_in(DOCTOR)
    session_id = st.session_state[runtime.SESSION]
    runtime.sign_out("You have signed out.")
    assert registry().find(session_id) is None
    assert runtime.SESSION not in st.session_state and runtime.TICKET not in st.session_state


def test_only_user_actions_move_the_server_sessions_clock(tab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.sign_in(DOCTOR)
    session_id = st.session_state[runtime.SESSION]
    monkeypatch.setattr(runtime, "clock", lambda: T0 + 60)
    assert runtime.current_principal(activity=False) == DOCTOR  # an automatic refresh
    kept = registry().find(session_id)
    assert kept is not None and kept.last_action_s == T0
    assert runtime.current_principal() == DOCTOR  # a user action
    kept = registry().find(session_id)
    assert kept is not None and kept.last_action_s == T0 + 60


def test_idle_expiry_ends_the_server_session(tab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.sign_in(DOCTOR)
    session_id = st.session_state[runtime.SESSION]
    monkeypatch.setattr(runtime, "clock", lambda: T0 + IDLE_S + 1)
    assert runtime.current_principal() is None
    assert st.session_state[runtime.NOTICE] == sessions.IDLE
    assert registry().find(session_id) is None


def test_a_disabled_account_gets_no_server_session(tab: None, stores: RecordStore) -> None:
    user = stores.users.get("doctor")
    stores.users.update(user.model_copy(update={"disabled": True}), user.version)
    runtime.sign_in(DOCTOR)
    assert runtime.SESSION not in st.session_state  # nothing a cookie could name
    assert runtime.current_principal() is None
    assert st.session_state[runtime.NOTICE] == sessions.DISABLED
