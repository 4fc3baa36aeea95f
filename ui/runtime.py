"""The running app for Streamlit: services built once, the signed-in principal, session checks.

Every full run re-reads the account (``backend.services.sessions``): a session ends when its user was disabled,
given a new password or another role, or was idle too long. Only user actions count as activity: automatic
refreshes (fragments with ``run_every`` and the reruns they start through :func:`rerun_app_quietly`) check the
session without extending it, so an unattended dashboard still expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from backend.bootstrap import App, start_app
from backend.config import Settings
from backend.services import sessions
from backend.services.access import Principal

PRINCIPAL = "auth_principal"
LAST_SEEN = "auth_last_seen"  # the last user action (seconds)
NOTICE = "auth_notice"
STAMP = "auth_stamp"  # what the session recorded of its account at sign-in
QUIET_RERUN = "auth_quiet_rerun"  # set by an automatic refresh: the next full run is not a user action
SSO = "auth_sso"  # True when the session was signed in through single sign-on
# The session clock; tests replace it to move time without waiting.
clock: Callable[[], float] = time.time
# Ends the single sign-on session (deletes Streamlit's identity cookie, which otherwise lives for weeks and signs
# the user straight back in, and logs out at the provider when it supports that); tests replace it.
end_sso: Callable[[], None] = st.logout


@st.cache_resource(show_spinner="Starting Clinical Co-Pilot…")
def get_app() -> App:
    """One App per server process (shared by all sessions; holds no per-user state)."""
    return start_app(Settings())


def init_session() -> None:
    """Session keys used across pages, set once."""
    st.session_state.setdefault(PRINCIPAL, None)
    st.session_state.setdefault(LAST_SEEN, clock())
    st.session_state.setdefault(NOTICE, None)


def current_principal(activity: bool = True) -> Principal | None:
    """The signed-in user, or None after signing the session out with the reason.

    Args:
        activity: True only in the entry file's full run, which a user action started (unless an automatic
            refresh said otherwise with :func:`rerun_app_quietly`); pages and fragments pass False.
    """
    principal: Principal | None = st.session_state.get(PRINCIPAL)
    if principal is None:
        return None
    app = get_app()
    stamp: sessions.SessionStamp | None = st.session_state.get(STAMP)
    if stamp is None:  # a session begun without a stamp: take it from the account as it is now
        stamp = sessions.stamp_session(app.stores, principal)
        if stamp is None:
            sign_out(sessions.DISABLED)
            return None
        st.session_state[STAMP] = stamp
    now = clock()
    problem = sessions.session_problem(
        app.stores,
        stamp,
        last_action_s=float(st.session_state.get(LAST_SEEN, 0)),
        now_s=now,
        idle_limit_s=app.settings.session_idle_minutes * 60,
    )
    if problem is not None:
        sign_out(problem)
        return None
    quiet = bool(st.session_state.pop(QUIET_RERUN, False))
    if activity and not quiet:
        st.session_state[LAST_SEEN] = now
    return principal


def session_ended_in_fragment() -> bool:
    """For auto-refreshing fragments: check the session without counting the refresh as activity.

    Returns True (after starting a full rerun that shows the sign-in page with the reason) when it ended.
    """
    if current_principal(activity=False) is not None:
        return False
    st.rerun(scope="app")
    return True  # not reached: st.rerun raises


def rerun_app_quietly() -> None:
    """Rerun the whole app from an automatic refresh, without counting it as a user action."""
    st.session_state[QUIET_RERUN] = True
    st.rerun(scope="app")


def sign_in(principal: Principal, sso: bool = False) -> None:
    """Start the session for ``principal``; ``sso`` when the identity came from single sign-on."""
    st.session_state[PRINCIPAL] = principal
    st.session_state[LAST_SEEN] = clock()
    st.session_state[NOTICE] = None
    st.session_state[STAMP] = sessions.stamp_session(get_app().stores, principal)
    st.session_state[SSO] = sso


def sign_out(notice: str | None = None) -> None:
    """End the session (sign-out, idle expiry, account changes); an SSO session's identity cookie ends too.

    Ending SSO redirects the browser, which starts a new session: ``notice`` is then not shown.
    """
    sso = bool(st.session_state.get(SSO, False))
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    init_session()
    st.session_state[NOTICE] = notice
    if sso:
        end_sso()


def require_principal() -> Principal:
    """For pages: the principal (the entry file only shows pages after sign-in)."""
    principal = current_principal(activity=False)  # the entry file's run already counted the action
    if principal is None:
        st.warning("Please sign in.")
        st.stop()
    return principal
