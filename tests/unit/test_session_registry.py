"""The server-side session table: one-time tickets, signed cookies, rotation, idle limits, tabs, bounds."""

from __future__ import annotations

import pytest

from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.session_registry import TICKET_SECONDS, SessionRegistry
from backend.services.sessions import SessionStamp

NURSE = Principal("nurse", Role.NURSE)
STAMP = SessionStamp(username="nurse", role=Role.NURSE, credential="c" * 32)
IDLE_S = 30 * 60
T0 = 1_000_000.0


@pytest.fixture()
def table() -> SessionRegistry:
    return SessionRegistry(key=b"k" * 32)


def _open(table: SessionRegistry, now: float = T0) -> tuple[str, str]:
    return table.open(NURSE, STAMP, sso=False, now_s=now, idle_limit_s=IDLE_S)


def test_a_ticket_buys_the_signed_cookie_once(table: SessionRegistry) -> None:
    session_id, ticket = _open(table)
    assert table.ticket_pending(session_id, T0)
    cookie = table.redeem(ticket, T0 + 1)
    assert cookie is not None and session_id in cookie
    assert table.session_id_for_cookie(cookie) == session_id
    assert table.redeem(ticket, T0 + 2) is None  # single use
    assert not table.ticket_pending(session_id, T0 + 2)
    kept = table.find(session_id)
    assert kept is not None and kept.principal == NURSE and kept.stamp == STAMP


def test_an_expired_or_unknown_ticket_buys_nothing(table: SessionRegistry) -> None:
    session_id, ticket = _open(table)
    assert not table.ticket_pending(session_id, T0 + TICKET_SECONDS + 1)
    assert table.redeem(ticket, T0 + TICKET_SECONDS + 1) is None
    assert table.redeem("made-up", T0) is None
    assert table.redeem("", T0) is None


def test_a_forged_or_foreign_cookie_names_no_session(table: SessionRegistry) -> None:
    session_id, ticket = _open(table)
    cookie = table.redeem(ticket, T0)
    assert cookie is not None
    assert table.session_id_for_cookie(cookie[:-1] + ("0" if cookie[-1] != "0" else "1")) is None
    assert table.session_id_for_cookie(session_id) is None  # the bare id, without a signature
    assert table.session_id_for_cookie(f"{session_id}.") is None
    assert table.session_id_for_cookie(None) is None
    assert table.session_id_for_cookie(f"{session_id}.é") is None  # any character: refused, never an error
    other = SessionRegistry(key=b"x" * 32)  # another process (a restart): its cookies mean nothing here
    _, other_ticket = other.open(NURSE, STAMP, False, T0, IDLE_S)
    other_cookie = other.redeem(other_ticket, T0)
    assert other_cookie is not None and table.session_id_for_cookie(other_cookie) is None


def test_every_sign_in_gets_a_new_id(table: SessionRegistry) -> None:
    ids = {_open(table)[0] for _ in range(20)}
    assert len(ids) == 20 and all(len(i) >= 40 for i in ids)  # 32 random bytes, url-safe


def test_an_ended_session_opens_nothing(table: SessionRegistry) -> None:
    session_id, ticket = _open(table)
    table.attach(session_id, "tab-1")
    table.end(session_id)
    assert table.find(session_id) is None
    assert table.redeem(ticket, T0) is None  # its ticket died with it
    assert not table.tab_signed_in("tab-1", T0)
    table.end(session_id)  # ending twice is harmless
    assert table.find(session_id) is None


def test_tabs_of_a_session_may_upload_until_it_is_idle(table: SessionRegistry) -> None:
    session_id, _ = _open(table)
    assert not table.tab_signed_in("tab-1", T0)  # not attached yet
    table.attach(session_id, "tab-1")
    table.attach(session_id, "tab-2")
    assert table.tab_signed_in("tab-1", T0 + 10) and table.tab_signed_in("tab-2", T0 + 10)
    assert not table.tab_signed_in("tab-3", T0)
    assert not table.tab_signed_in("tab-1", T0 + IDLE_S + 1)
    table.touch(session_id, T0 + IDLE_S)
    assert table.tab_signed_in("tab-1", T0 + IDLE_S + 1)  # an action in any tab counts


def test_touch_never_moves_the_last_action_back(table: SessionRegistry) -> None:
    session_id, _ = _open(table)
    table.touch(session_id, T0 + 100)
    table.touch(session_id, T0 + 50)
    kept = table.find(session_id)
    assert kept is not None and kept.last_action_s == T0 + 100
    table.touch("unknown", T0)  # no error, nothing created
    assert table.find("unknown") is None


def test_idle_sessions_are_dropped_when_others_sign_in(table: SessionRegistry) -> None:
    old_id, _ = _open(table, T0)
    new_id, _ = _open(table, T0 + IDLE_S + 1)
    assert table.find(old_id) is None and table.find(new_id) is not None


def test_the_table_in_memory_is_bounded() -> None:
    small = SessionRegistry(key=b"k" * 32, max_sessions=3)
    ids = [small.open(NURSE, STAMP, False, T0 + i, IDLE_S)[0] for i in range(5)]
    assert small.find(ids[0]) is None and small.find(ids[1]) is None  # the least recently active went first
    assert all(small.find(i) is not None for i in ids[2:])
