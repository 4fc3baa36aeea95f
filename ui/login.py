"""The sign-in page (also the first-run admin set-up, demo credentials, and OIDC when configured)."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import Role
from backend.services import auth
from backend.services.demo import demo_accounts
from ui.runtime import NOTICE, get_app, sign_in


def login_page() -> None:
    app = get_app()
    st.title(":material/stethoscope: Clinical Co-Pilot")
    if st.session_state.get(NOTICE):
        st.info(st.session_state[NOTICE])
    if not app.stores.users.list_all():
        _first_admin()
        return
    policy = auth.LoginPolicy(app.settings.login_max_failures, app.settings.login_lock_minutes)
    with st.form("login_form"):
        username = st.text_input("Username", key="login_username", max_chars=64)
        password = st.text_input("Password", type="password", key="login_password", max_chars=256)
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            principal = auth.login(app.stores, username, password, policy, app.settings.nurse_can_sign)
        except CopilotError as e:
            st.error(e.message)
        else:
            sign_in(principal)
            st.rerun()
    _oidc(app)
    if app.settings.demo:
        st.divider()
        st.markdown("**Demo accounts** (synthetic data only):")
        st.table([{"username": a.username, "password": a.password, "role": a.role} for a in demo_accounts()])


def _first_admin() -> None:
    st.subheader("First run: create the administrator account")
    with st.form("setup_form"):
        username = st.text_input("Admin username", key="setup_username", max_chars=64)
        password = st.text_input("Password (at least 8 characters)", type="password", key="setup_password")
        repeat = st.text_input("Repeat password", type="password", key="setup_repeat")
        submitted = st.form_submit_button("Create admin", type="primary")
    if submitted:
        if password != repeat:
            st.error("The passwords differ.")
            return
        try:
            user = auth.create_user(get_app().stores, None, username, password, Role.ADMIN, "Administrator")
        except CopilotError as e:
            st.error(e.message)
        else:
            st.success(f"Admin {user.username} created. Sign in below.")
            st.rerun()


def _oidc(app: object) -> None:
    """Single sign-on through st.login when an [auth] section is configured in secrets.toml."""
    try:
        configured = "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        configured = False
    if not configured:
        return
    st.divider()
    if not st.user.is_logged_in:
        if st.button("Sign in with your organisation (SSO)", key="login_sso"):
            st.login()
        return
    email = str(st.user.get("email", "")).lower()
    try:
        principal = auth.principal_for_sso(get_app().stores, email)
    except CopilotError as e:
        st.error(e.message)
        return
    sign_in(principal)
    st.rerun()
