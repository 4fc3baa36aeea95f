"""The API-token service's rules on the in-memory fake (the store contract runs on it in tests/integration/contract)."""

from __future__ import annotations

import pytest

from backend.domain.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from backend.domain.models import Role, User
from backend.ports import RecordStore
from backend.services import api_tokens
from backend.services.access import Principal
from tests.fakes.records import fake_record_store

ADMIN = Principal("root", Role.ADMIN)
DAY_MS = 86_400_000


def _stores() -> RecordStore:
    stores = fake_record_store()
    stores.users.add(User(username="asha", role=Role.NURSE, password_hash="x"))
    return stores


def test_a_token_acts_as_its_user_until_it_expires() -> None:
    stores = _stores()
    issued = api_tokens.create_token(stores, ADMIN, "asha", days=2, label="phone app")
    assert issued.token.startswith("cop_") and issued.token not in issued.record.model_dump_json()
    made = issued.record.created_at
    assert api_tokens.principal_for_token(stores, issued.token, made + DAY_MS) == Principal("asha", Role.NURSE)
    with pytest.raises(AuthenticationFailed, match="expired"):
        api_tokens.principal_for_token(stores, issued.token, made + 2 * DAY_MS)
    actions = [e.action for e in stores.audit.query(limit=10).items]
    assert actions == ["api_token.create"]  # using a token is not an audit line of its own


def test_revoked_disabled_or_changed_role_stop_the_token() -> None:
    stores = _stores()
    issued = api_tokens.create_token(stores, None, "asha")
    api_tokens.revoke_token(stores, None, issued.record.token_id)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        api_tokens.principal_for_token(stores, issued.token)
    second = api_tokens.create_token(stores, None, "asha")
    user = stores.users.get("asha")
    stores.users.update(user.model_copy(update={"role": Role.DOCTOR}), user.version)
    with pytest.raises(AuthenticationFailed, match="role changed"):
        api_tokens.principal_for_token(stores, second.token)
    user = stores.users.get("asha")
    stores.users.update(user.model_copy(update={"role": Role.NURSE, "disabled": True}), user.version)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        api_tokens.principal_for_token(stores, second.token)
    with pytest.raises(ValidationFailed, match="disabled"):
        api_tokens.create_token(stores, None, "asha")
    audit = stores.audit.query(limit=10).items  # newest first, as the operator (the command line)
    assert [(e.action, e.role) for e in audit] == [
        ("api_token.create", "operator"),
        ("api_token.revoke", "operator"),
        ("api_token.create", "operator"),
    ]


def test_only_admins_manage_tokens_and_bad_strings_are_refused() -> None:
    stores = _stores()
    with pytest.raises(PermissionDenied):
        api_tokens.create_token(stores, Principal("dr", Role.DOCTOR), "asha")
    with pytest.raises(ValidationFailed, match="1 to 365"):
        api_tokens.create_token(stores, ADMIN, "asha", days=0)
    for bad in ("", "cop_short", "Bearer x", "cop_" + "a" * 43):
        with pytest.raises(AuthenticationFailed):
            api_tokens.principal_for_token(stores, bad)
