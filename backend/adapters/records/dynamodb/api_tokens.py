"""Personal API tokens in DynamoDB, keyed by the digest of the secret.

Every request looks its token up by the digest, so that is the table key: a strongly consistent GetItem, which
sees a revocation the moment it is written (an index read could still return the token as it was). Revoking by
id goes through the ``id-index`` GSI, listing through ``entity-index`` / ``user-index``; none of them scans.
"""

from __future__ import annotations

from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, from_item, to_item
from backend.adapters.records.dynamodb.tables import API_TOKENS
from backend.domain.api_tokens import ApiToken
from backend.domain.errors import AlreadyExists, NotFound

_ENTITY = "api_token"


class DynamoApiTokenStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + API_TOKENS)

    def add(self, token: ApiToken) -> None:
        if self._by_id(token.token_id) is not None:
            raise AlreadyExists(f"Token {token.token_id!r} already exists.")
        if not self._t.put_new(to_item(token, entity=_ENTITY), "secret_hash"):
            raise AlreadyExists("A token with this secret already exists.")

    def get(self, token_id: str) -> ApiToken:
        item = self._by_id(token_id)
        if item is None:
            raise NotFound(f"No API token {token_id[:40]!r}.")
        # The index copy may lag a revocation: read the item itself.
        fresh = self._t.get({"secret_hash": item["secret_hash"]})
        if fresh is None:
            raise NotFound(f"No API token {token_id[:40]!r}.")
        return from_item(ApiToken, fresh)

    def find_by_hash(self, secret_hash: str) -> ApiToken:
        item = self._t.get({"secret_hash": av(secret_hash)})
        if item is None:
            raise NotFound("No such API token.")
        return from_item(ApiToken, item)

    def update(self, token: ApiToken, expected_version: int) -> ApiToken:
        key = {"secret_hash": av(token.secret_hash)}
        return self._t.replace_versioned(token, key, expected_version, f"API token {token.token_id!r}", entity=_ENTITY)

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        if username is None:
            items = self._t.query_equal("entity-index", "entity", _ENTITY, ScanIndexForward=False)
        else:
            items = self._t.query_equal("user-index", "username", username, ScanIndexForward=False)
        tokens = [from_item(ApiToken, i) for i in items]
        return sorted(tokens, key=lambda t: (t.created_at, t.token_id), reverse=True)

    def _by_id(self, token_id: str) -> dict[str, Any] | None:
        if not token_id or len(token_id) > 64:
            return None  # DynamoDB refuses an empty key value; no issued id is this long
        return next(self._t.query_equal("id-index", "token_id", token_id), None)
