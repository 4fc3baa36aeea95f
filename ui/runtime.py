"""The running app for Streamlit: services built once, the signed-in principal, session checks.

Every full run re-reads the account (``backend.services.sessions``): a session ends when its user was disabled,
given a new password or another role, or was idle too long. Only user actions count as activity: automatic
refreshes (fragments with ``run_every`` and the reruns they start through :func:`rerun_app_quietly`) check the
session without extending it, so an unattended dashboard still expires.

A sign-in outlives a reload: it is also kept on the server (``backend.services.session_registry``) and named by
an HttpOnly signed cookie (``ui.session_http``). A new browser tab's first run finds the cookie's session and
takes it up, with the same checks as any other run (idle time counted from the last action in any tab, account
unchanged); signing out in one tab ends the session in every tab of that browser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from backend.bootstrap import App, start_app
from backend.config import Settings
from backend.services import sessions
from backend.services.access import Principal
from backend.services.clock import session_clock
from ui.session_http import ROUTE, TICKET_HEADER, cookie_name, registry

PRINCIPAL = "auth_principal"
LAST_SEEN = "auth_last_seen"  # the last user action (seconds)
NOTICE = "auth_notice"
STAMP = "auth_stamp"  # what the session recorded of its account at sign-in
QUIET_RERUN = "auth_quiet_rerun"  # set by an automatic refresh: the next full run is not a user action
RUN_WAS_QUIET = "auth_run_was_quiet"  # this run began as an automatic refresh (kept across a page switch)
SSO = "auth_sso"  # True when the session was signed in through single sign-on
SESSION = "auth_session"  # the id of the session kept on the server (its cookie names it)
TICKET = "auth_ticket"  # the one-time ticket the page exchanges for the session cookie after sign-in
# The session clock (see backend.services.clock for its test-only hook); tests replace it to move time without waiting.
clock: Callable[[], float] = session_clock()
# Ends the single sign-on session (deletes Streamlit's identity cookie, which otherwise lives for weeks and signs
# the user straight back in, and logs out at the provider when it supports that); tests replace it.
end_sso: Callable[[], None] = st.logout


@st.cache_resource(show_spinner="Starting Clinical Co-Pilot…")
def get_app() -> App:
    """One App per server process (shared by all sessions; holds no per-user state)."""
    app = start_app(Settings())
    registry().share(app.stores)  # signed-in sessions in the record store: every UI process sees them
    return app


def init_session() -> None:
    """Session keys used across pages, set once."""
    st.session_state.setdefault(PRINCIPAL, None)
    st.session_state.setdefault(LAST_SEEN, clock())
    st.session_state.setdefault(NOTICE, None)


def current_principal(activity: bool = True) -> Principal | None:
    """The signed-in user, or None after signing the session out with the reason.

    A tab that is not signed in takes up the session its browser's cookie names (a reload, a link, a new tab).

    Args:
        activity: True only in the entry file's full run, which a user action started (unless an automatic
            refresh said otherwise with :func:`rerun_app_quietly`); pages and fragments pass False.
    """
    principal: Principal | None = st.session_state.get(PRINCIPAL) or _resume()
    if principal is None:
        return None
    app = get_app()
    now = clock()
    last_action = float(st.session_state.get(LAST_SEEN, 0))
    session_id: str | None = st.session_state.get(SESSION)
    if session_id is not None:
        kept = registry().find(session_id)
        if kept is None:  # signed out in another tab, or dropped when idle
            idle = now - last_action > app.settings.session_idle_minutes * 60
            sign_out(sessions.IDLE if idle else sessions.ENDED)
            return None
        last_action = max(last_action, kept.last_action_s)  # an action in another tab counts too
    stamp: sessions.SessionStamp | None = st.session_state.get(STAMP)
    if stamp is None:  # a session begun without a stamp: take it from the account as it is now
        stamp = sessions.stamp_session(app.stores, principal)
        if stamp is None:
            sign_out(sessions.DISABLED)
            return None
        st.session_state[STAMP] = stamp
    problem = sessions.session_problem(
        app.stores,
        stamp,
        last_action_s=last_action,
        now_s=now,
        idle_limit_s=app.settings.session_idle_minutes * 60,
    )
    if problem is not None:
        sign_out(problem)
        return None
    quiet = bool(st.session_state.pop(QUIET_RERUN, False))
    st.session_state[RUN_WAS_QUIET] = quiet
    if activity and not quiet:
        st.session_state[LAST_SEEN] = now
        if session_id is not None:
            registry().touch(session_id, now)
    return principal


def _tab() -> str | None:
    """This browser tab's Streamlit session id (None outside a script run, e.g. in unit tests)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def _base_url() -> str:
    return str(st.get_option("server.baseUrlPath") or "")


def _cookie_session() -> str | None:
    """The session id that this tab's cookie names, if the server signed it (open or not).

    Over https only the prefixed cookie counts (see ``ui.session_http.cookie_name``).
    """
    secure = str(st.context.url or "").startswith("https://")
    return registry().session_id_for_cookie(st.context.cookies.get(cookie_name(secure, _base_url())))


def _resume() -> Principal | None:
    """Take up the session the browser's cookie names; the caller then checks it like any other run."""
    session_id = _cookie_session()
    kept = registry().find(session_id) if session_id is not None else None
    if session_id is None or kept is None:
        return None
    st.session_state[PRINCIPAL] = kept.principal
    st.session_state[STAMP] = kept.stamp
    st.session_state[LAST_SEEN] = kept.last_action_s
    st.session_state[SSO] = kept.sso
    st.session_state[SESSION] = session_id
    tab = _tab()
    if tab is not None:
        registry().attach(session_id, tab)
    return kept.principal


def session_ended_in_fragment() -> bool:
    """For auto-refreshing fragments: check the session without counting the refresh as activity.

    Returns True (after starting a full rerun that shows the sign-in page with the reason) when it ended.
    """
    if current_principal(activity=False) is not None:
        return False
    st.empty()  # a waiting click's run starts here instead (see rerun_app_quietly); it shows the sign-in page too
    st.rerun(scope="app")
    return True  # not reached: st.rerun raises


def rerun_app_quietly() -> NoReturn:
    """Rerun the whole app from an automatic refresh, without counting it as a user action.

    A user's click that arrived while the refresh read the database is waiting to run; a rerun asked for now
    would be folded into it and, being the newer request, carry this page over the page the user clicked (their
    click "did nothing"). So the refresh first draws an empty placeholder: every element sent is a point where
    Streamlit starts a waiting run, and the user's run then replaces this one (it reads the same fresh state).
    """
    st.empty()  # the yield point: a waiting click's run starts here, and nothing below runs
    st.session_state[QUIET_RERUN] = True
    st.rerun(scope="app")


def switch_page_keeping_quiet(page: st.Page, query_params: dict[str, str]) -> None:
    """Open ``page`` from this run; a run that began as an automatic refresh stays one on the page it opens.

    A page switch starts a new run; without this, an automatic refresh that passes through the start page
    would count as the user's action on the page it opens, and keep an idle session open.
    """
    if st.session_state.get(RUN_WAS_QUIET):
        st.session_state[QUIET_RERUN] = True
    st.switch_page(page, query_params=query_params)


def sign_in(principal: Principal, sso: bool = False) -> None:
    """Start the session for ``principal``; ``sso`` when the identity came from single sign-on.

    The session gets a new server-side id (any session this tab or its cookie named before ends: rotation),
    and a one-time ticket that :func:`bind_session_cookie` exchanges for the HttpOnly cookie.
    """
    app = get_app()
    table = registry()
    for old in {st.session_state.get(SESSION), _cookie_session()} - {None}:
        table.end(str(old))
    now = clock()
    stamp = sessions.stamp_session(app.stores, principal)
    st.session_state[PRINCIPAL] = principal
    st.session_state[LAST_SEEN] = now
    st.session_state[NOTICE] = None
    st.session_state[STAMP] = stamp
    st.session_state[SSO] = sso
    st.session_state.pop(SESSION, None)
    st.session_state.pop(TICKET, None)
    if stamp is None:  # the account went away meanwhile: the next check signs out with the reason
        return
    session_id, ticket = table.open(principal, stamp, sso, now, idle_limit_s=app.settings.session_idle_minutes * 60)
    tab = _tab()
    if tab is not None:
        table.attach(session_id, tab)
    st.session_state[SESSION] = session_id
    st.session_state[TICKET] = ticket


def bind_session_cookie() -> None:
    """Until the ticket is used: one script that sends it to the cookie route (an HTTP response sets the cookie).

    The ticket is only in this tab's page, is good once and for a minute, and the cookie it buys is HttpOnly.
    """
    ticket, session_id = st.session_state.get(TICKET), st.session_state.get(SESSION)
    if not ticket or not session_id:
        return
    if not registry().ticket_pending(session_id, clock()):
        del st.session_state[TICKET]
        return
    base = _base_url().strip("/")
    url = json.dumps(f"/{base}/{ROUTE}" if base else f"/{ROUTE}")
    headers = json.dumps({TICKET_HEADER: ticket})
    st.html(
        f"<script>fetch({url}, {{method: 'POST', credentials: 'same-origin', headers: {headers}}});</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def sign_out(notice: str | None = None) -> None:
    """End the session (sign-out, idle expiry, account changes) in every tab; an SSO session's identity cookie too.

    The server-side session ends, so the browser's cookie opens nothing any more. Ending SSO redirects the
    browser, which starts a new session: ``notice`` is then not shown.
    """
    sso = bool(st.session_state.get(SSO, False))
    session_id = st.session_state.get(SESSION)
    if session_id is not None:
        registry().end(str(session_id))
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
