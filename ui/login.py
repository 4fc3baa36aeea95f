"""The sign-in page (also the first administrator with the setup token, the demo notice, and OIDC when configured)."""

from __future__ import annotations

import sys

import streamlit as st

from backend.domain.errors import CopilotError
from backend.services import auth, first_admin
from backend.services.demo import demo_accounts, is_demo_database
from backend.services.login_guard import LoginGuard, LoginPolicy
from ui import runtime
from ui.runtime import NOTICE, App, get_app, sign_in

SETUP_OK = "setup_token_ok"  # the checked setup token, between the two set-up steps


@st.cache_resource(show_spinner=False)
def login_guard(max_failures: int, lock_minutes: int, store: int) -> LoginGuard:
    """One throttle per server process and record store (``store``: its identity), counting in the store's
    shared state, which every process behind a load balancer sees."""
    policy = LoginPolicy(max_failures=max_failures, lock_minutes=lock_minutes)
    return LoginGuard.for_store(policy, get_app().stores)


def login_page() -> None:
    app = get_app()
    st.title(":material/stethoscope: Clinical Co-Pilot")
    if st.session_state.get(NOTICE):
        st.info(st.session_state[NOTICE])
    if first_admin.needs_first_admin(app.stores):
        _first_admin(app)
        return
    demo = is_demo_database(app.stores)
    if demo:
        st.warning(
            "**Demo** — this database holds synthetic patients only, and the accounts below have published "
            "passwords. Do not enter real patient data here."
        )
    with st.form("login_form"):
        username = st.text_input("Username", key="login_username", max_chars=64)
        password = st.text_input("Password", type="password", key="login_password", max_chars=256)
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        guard = login_guard(app.settings.login_max_failures, app.settings.login_lock_minutes, id(app.stores))
        try:
            principal = auth.login(
                app.stores, username, password, guard, app.settings.nurse_can_sign, client=st.context.ip_address
            )
        except CopilotError as e:
            st.error(e.message)
        else:
            sign_in(principal)
            st.rerun()
    _oidc(app)
    if demo:
        st.divider()
        st.markdown("**Demo accounts** (synthetic data only; a changed password no longer matches this table):")
        st.table([{"username": a.username, "password": a.password, "role": a.role} for a in demo_accounts()])


def _first_admin(app: App) -> None:
    """No account exists: the setup token printed on the server's console unlocks the administrator form."""
    issued = first_admin.issue_setup_token(app.stores, app.settings.data_dir)
    if issued is not None:
        _announce(str(first_admin.token_path(app.settings.data_dir)), issued[0])
    st.subheader("First run: no accounts yet")
    st.markdown(
        "Create the first administrator in one of two ways:\n"
        "- on the server, run `python -m backend users add NAME --role admin`, or\n"
        "- enter the one-time **setup token** that the server printed in its console (it is also in the file "
        "`setup-token` in the app's data folder, readable only by the account that runs the server)."
    )
    token = st.session_state.get(SETUP_OK)
    if token is None or not first_admin.check_setup_token(app.settings.data_dir, token):
        with st.form("setup_token_form"):
            typed = st.text_input("Setup token", type="password", key="setup_token", max_chars=100)
            checked = st.form_submit_button("Continue", type="primary")
        if checked:
            if first_admin.check_setup_token(app.settings.data_dir, typed):
                st.session_state[SETUP_OK] = typed.strip()
                st.rerun()
            st.error(first_admin.WRONG_SETUP)
        return
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
            user = first_admin.create_first_admin(app.stores, app.settings.data_dir, token, username, password)
        except CopilotError as e:
            st.error(e.message)
        else:
            del st.session_state[SETUP_OK]
            st.session_state[NOTICE] = f"Administrator {user.username} created. Sign in with it."
            st.rerun()


@st.cache_resource(show_spinner=False)
def _announce(path: str, token: str) -> bool:
    # Cached: printed once per server process and token, on the server's console (and so in `docker logs`).
    print(
        f"\n*** Clinical Co-Pilot has no accounts yet. Setup token for the first administrator: {token}\n"
        f"*** (also in {path}; or run: python -m backend users add NAME --role admin)\n",
        file=sys.stderr,
        flush=True,
    )
    return True


def _oidc(app: App) -> None:
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
    try:
        # The identity cookie outlives this app's sessions by weeks: an identity older than the idle limit must
        # sign in at the provider again instead of opening a new session by itself.
        principal = auth.principal_for_sso(
            app.stores,
            st.user.to_dict(),
            app.settings.nurse_can_sign,
            now_s=runtime.clock(),
            max_age_s=app.settings.session_idle_minutes * 60,
        )
    except CopilotError as e:
        st.error(e.message)
        if e.message == auth.SSO_STALE:
            if st.button("Sign in with your organisation again", key="login_sso_again", type="primary"):
                st.login()
        elif st.button("Sign out of single sign-on", key="login_sso_out"):
            runtime.end_sso()
        return
    sign_in(principal, sso=True)
    st.rerun()
