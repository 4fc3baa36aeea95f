"""The admin page's API-token section (AppTest): issue a token (shown once) that works, then revoke it."""

from __future__ import annotations

import pytest

from backend.bootstrap import App
from backend.domain.errors import AuthenticationFailed
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.api_tokens import principal_for_token
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("api-tokens-admin", users={"root": Role.ADMIN, "asha": Role.NURSE})
ADMIN = Principal("root", Role.ADMIN)


def test_admin_issues_and_revokes_a_token(app: App) -> None:
    at = open_page("admin", ADMIN)
    at.selectbox(key="admin_token_user").set_value("asha")
    at.text_input(key="admin_token_label").set_value("ward tablet")
    at.button(key="FormSubmitter:admin_new_token-Issue token").click().run()
    assert not at.exception, at.exception
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("cop_")
    token = shown[0]
    assert principal_for_token(app.stores, token) == Principal("asha", Role.NURSE)
    stored = app.stores.api_tokens.list_tokens("asha")
    assert [t.label for t in stored] == ["ward tablet"] and token not in stored[0].model_dump_json()

    at = open_page("admin", ADMIN)  # a new visit: the secret is not shown again
    assert not at.code
    at.selectbox(key="admin_token_target").set_value(stored[0].token_id)
    at.button(key="admin_token_revoke").click().run()
    assert not at.exception, at.exception
    with pytest.raises(AuthenticationFailed, match="revoked"):
        principal_for_token(app.stores, token)
    actions = [e.action for e in app.stores.audit.query(actor="root", limit=20).items]
    assert "api_token.create" in actions and "api_token.revoke" in actions
