"""The admin page's section for personal API tokens: list, issue (the secret shown once), revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import now_ms
from backend.services import api_tokens
from backend.services.access import Principal
from ui import clock

if TYPE_CHECKING:
    from ui.runtime import App


def _day(ms: int | None) -> str:
    return clock.day_text(ms) if ms else ""


def tokens_admin(app: App, principal: Principal, usernames: list[str]) -> None:
    """Tokens of every user; issue one for a user (shown once, never stored) or revoke one by its id."""
    st.markdown("**API tokens** (for the REST API: mobile apps, EHR integrations)")
    tokens = api_tokens.list_tokens(app.stores, principal)
    now = now_ms()
    if not tokens:
        st.caption("No API tokens yet: issue one below for an app or integration that acts as that account.")
    else:
        st.dataframe(
            [
                {
                    "id": t.token_id,
                    "user": t.username,
                    "role": t.role.value,
                    "label": t.label,
                    "state": "revoked" if t.revoked_at else "active" if t.usable_at(now) else "expired",
                    "expires": _day(t.expires_at),
                }
                for t in tokens
            ],
            hide_index=True,
            width="stretch",
        )
    with st.form("admin_new_token"):
        user = st.selectbox("Token for", usernames, key="admin_token_user")
        days = st.number_input(
            "Days valid", 1, api_tokens.MAX_DAYS, app.settings.api_token_days, key="admin_token_days"
        )
        label = st.text_input("What it is for", key="admin_token_label", max_chars=80)
        if st.form_submit_button("Issue token"):
            try:
                issued = api_tokens.create_token(app.stores, principal, user, int(days), label)
            except CopilotError as e:
                st.error(e.message)
            else:
                st.success(f"Issued {issued.record.token_id}. Copy it now: it is not shown again.")
                st.code(issued.token, language=None)
    active = [t.token_id for t in tokens if t.revoked_at is None and t.usable_at(now)]
    if active:
        col1, col2 = st.columns([3, 1])
        target = col1.selectbox("Token", active, key="admin_token_target")
        if col2.button("Revoke", key="admin_token_revoke"):
            try:
                api_tokens.revoke_token(app.stores, principal, target)
                st.rerun()
            except CopilotError as e:
                st.error(e.message)
