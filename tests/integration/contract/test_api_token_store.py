"""ApiTokenStore contract (SQLite, DynamoDB Local; the in-memory fake runs it too, see tests/unit)."""

from __future__ import annotations

import pytest

from backend.domain.api_tokens import ApiToken, digest
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import Role
from backend.ports import RecordStore


def _token(token_id: str, username: str, created_at: int, secret: str) -> ApiToken:
    return ApiToken(
        token_id=token_id,
        secret_hash=digest(secret),
        username=username,
        role=Role.NURSE,
        created_at=created_at,
        expires_at=created_at + 1000,
    )


def test_add_find_revoke_and_list(record_store: RecordStore) -> None:
    tokens = record_store.api_tokens
    first = _token("TOK_000000000001", "asha", 1000, "cop_first")
    tokens.add(first)
    tokens.add(_token("TOK_000000000002", "ravi", 2000, "cop_second"))
    tokens.add(_token("TOK_000000000003", "asha", 3000, "cop_third"))
    with pytest.raises(AlreadyExists):
        tokens.add(_token("TOK_000000000001", "mallory", 4000, "cop_other"))  # the id is taken
    with pytest.raises(AlreadyExists):
        tokens.add(_token("TOK_000000000009", "mallory", 4000, "cop_first"))  # the secret is taken
    assert tokens.find_by_hash(digest("cop_first")) == first
    assert tokens.get("TOK_000000000001") == first
    revoked = tokens.update(first.model_copy(update={"revoked_at": 1500, "revoked_by": "admin"}), expected_version=1)
    assert revoked.version == 2
    # The lookup every request makes sees the revocation at once.
    assert tokens.find_by_hash(digest("cop_first")).revoked_at == 1500
    assert tokens.get("TOK_000000000001").revoked_at == 1500
    with pytest.raises(ConcurrentUpdate):
        tokens.update(first.model_copy(update={"label": "stale"}), expected_version=1)
    assert [t.token_id for t in tokens.list_tokens()] == ["TOK_000000000003", "TOK_000000000002", "TOK_000000000001"]
    assert [t.token_id for t in tokens.list_tokens("asha")] == ["TOK_000000000003", "TOK_000000000001"]
    assert tokens.list_tokens("nobody") == []


def test_unknown_tokens_are_not_found(record_store: RecordStore) -> None:
    tokens = record_store.api_tokens
    with pytest.raises(NotFound):
        tokens.find_by_hash(digest("cop_never_issued"))
    with pytest.raises(NotFound):
        tokens.get("TOK_ffffffffffff")
    with pytest.raises(NotFound):
        tokens.get("")
    with pytest.raises(NotFound):
        tokens.update(_token("TOK_ffffffffffff", "asha", 1, "cop_x"), expected_version=1)
