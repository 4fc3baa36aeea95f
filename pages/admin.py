"""Admin: users (admins), audit trail (admins and doctors), engines in use."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import Role, now_ms
from backend.services import auth
from backend.services.access import Permission
from backend.services.audit import audit_trail
from backend.services.providers import provider_statuses, test_provider
from ui.api_tokens_admin import tokens_admin
from ui.audit_words import action_words
from ui.clock import when_seconds, zone_name
from ui.note_templates import templates_admin
from ui.runtime import get_app, require_principal
from ui.safe import md_escape

app, principal = get_app(), require_principal()
st.title("Admin")

tabs = []
if principal.can(Permission.MANAGE_USERS):
    tabs.append("Users")
tabs.append("Audit trail")
if principal.can(Permission.MANAGE_PROVIDERS):
    tabs.append("Engines")
    tabs.append("Note templates")
panes = dict(zip(tabs, st.tabs(tabs), strict=True))

if "Users" in panes:
    with panes["Users"]:
        users = auth.list_users(app.stores, principal)
        st.dataframe(
            [
                {"username": u.username, "role": u.role.value, "name": u.display_name, "disabled": u.disabled}
                for u in users
            ],
            hide_index=True,
            width="stretch",
        )
        with st.form("admin_add_user"):
            st.markdown("**Add a user**")
            username = st.text_input("Username", key="admin_new_username", max_chars=64)
            role = st.selectbox("Role", [r.value for r in Role], key="admin_new_role")
            display = st.text_input("Display name", key="admin_new_display", max_chars=80)
            password = st.text_input("Initial password", type="password", key="admin_new_password")
            if st.form_submit_button("Add user"):
                try:
                    auth.create_user(app.stores, principal, username, password, Role(role), display)
                except CopilotError as e:
                    st.error(e.message)
                else:
                    # Shown below after the rerun, with the new account in the table (shown now, it would vanish).
                    st.session_state["admin_users_notice"] = f"Added {username}."
                    st.rerun()
        names = [u.username for u in users]
        notice = st.session_state.pop("admin_users_notice", None)
        if notice:
            st.success(notice)
        target = st.selectbox("Account", names, key="admin_target")
        chosen = next((u for u in users if u.username == target), None)
        # One action, the one that applies: an enabled account can be disabled, a disabled one enabled.
        if chosen is not None:
            verb = "Enable" if chosen.disabled else "Disable"
            if st.button(f"{verb} {chosen.username}", key=f"admin_{verb.lower()}"):
                try:
                    auth.set_disabled(app.stores, principal, chosen.username, not chosen.disabled)
                except CopilotError as e:
                    st.error(md_escape(e.message))
                else:
                    st.session_state["admin_users_notice"] = f"{verb}d {chosen.username}."
                    st.rerun()
        tokens_admin(app, principal, names)

with panes["Audit trail"]:
    col1, col2 = st.columns(2)
    patient_filter = col1.text_input("Patient ID", key="admin_audit_patient", max_chars=20)
    actor_filter = col2.text_input("User", key="admin_audit_actor", max_chars=64)
    try:
        page = audit_trail(
            app.stores, principal, patient_id=patient_filter.strip(), actor=actor_filter.strip().lower(), limit=200
        )
    except CopilotError as e:
        st.error(e.message)
    else:
        st.dataframe(
            [
                {
                    f"when ({zone_name(now_ms())})": when_seconds(e.at, zone=False),
                    "user": e.actor,
                    "role": e.role,
                    "what": action_words(e.action),  # words first; the code stays for whoever searches logs
                    "action": e.action,
                    "patient": e.patient_id or "",
                    "detail": e.detail,
                }
                for e in page.items
            ],
            hide_index=True,
            width="stretch",
        )

if "Engines" in panes:
    with panes["Engines"]:
        st.markdown(
            "Which engine serves each part of the app, its last error, and a connection test. Storage: "
            + ", ".join(f"**{k}** {app.providers[k]}" for k in ("store", "blobs", "queue"))
        )
        starters = {"stt": app.speech, "ocr": app.ocr, "llm": app.drafter}
        for row in provider_statuses(principal, app.registry, app.providers):
            c1, c2, c3 = st.columns([3, 4, 1])
            state = ":green[live]" if row.live else (":orange[fallback]" if row.fallback else ":grey[not started]")
            how = "chosen by auto" if getattr(app.settings, row.port) == "auto" else "set in configuration"
            c1.markdown(f"**{row.label}** · {row.configured} ({'cloud' if row.cloud else 'offline'}; {how}) · {state}")
            c2.caption(md_escape(row.fallback or row.last_error or (f"Engine: {row.engine}" if row.live else "")))
            if c3.button("Test", key=f"admin_test_{row.port}"):
                with st.spinner("Starting and testing the engine…"):
                    try:
                        starters[row.port]()
                    except CopilotError as e:
                        st.error(md_escape(e.message))
                    ok, message = test_provider(principal, app.registry, app.stores, row.port)
                (st.success if ok else st.error)(md_escape(message))

if "Note templates" in panes:
    with panes["Note templates"]:
        templates_admin(app, principal)
