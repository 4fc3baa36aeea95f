"""The running app for Streamlit: services built once, the signed-in principal, idle expiry."""

from __future__ import annotations

import time

import streamlit as st

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.services.access import Principal

PRINCIPAL = "auth_principal"
LAST_SEEN = "auth_last_seen"
NOTICE = "auth_notice"


@st.cache_resource(show_spinner="Starting Clinical Co-Pilot…")
def get_app() -> App:
    """One App per server process (shared by all sessions; holds no per-user state)."""
    app = build_app(Settings())
    from backend.services.runtime import start_background

    start_background(app)
    return app


def init_session() -> None:
    """Session keys used across pages, set once."""
    st.session_state.setdefault(PRINCIPAL, None)
    st.session_state.setdefault(LAST_SEEN, time.time())
    st.session_state.setdefault(NOTICE, None)


def current_principal() -> Principal | None:
    """The signed-in user, or None; signs out after the configured idle time."""
    principal: Principal | None = st.session_state.get(PRINCIPAL)
    if principal is None:
        return None
    idle = time.time() - float(st.session_state.get(LAST_SEEN, 0))
    if idle > get_app().settings.session_idle_minutes * 60:
        sign_out("You were signed out after a period of inactivity. Please sign in again.")
        return None
    st.session_state[LAST_SEEN] = time.time()
    return principal


def sign_in(principal: Principal) -> None:
    st.session_state[PRINCIPAL] = principal
    st.session_state[LAST_SEEN] = time.time()
    st.session_state[NOTICE] = None


def sign_out(notice: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    init_session()
    st.session_state[NOTICE] = notice


def require_principal() -> Principal:
    """For pages: the principal (the entry file only shows pages after sign-in)."""
    principal = current_principal()
    if principal is None:
        st.warning("Please sign in.")
        st.stop()
    return principal
