"""Users in DynamoDB (key ``username``); ``list_all`` queries the sparse GSI ``entity-index``, never scans."""

from __future__ import annotations

from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, from_item, to_item
from backend.adapters.records.dynamodb.tables import USERS
from backend.domain.errors import AlreadyExists, NotFound
from backend.domain.models import User

_ENTITY = "user"


class DynamoUserStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + USERS)

    def add(self, user: User) -> None:
        if not self._t.put_new(to_item(user, entity=_ENTITY), "username"):
            raise AlreadyExists(f"User {user.username!r} already exists.")

    def get(self, username: str) -> User:
        item = self._t.get({"username": av(username)})
        if item is None:
            raise NotFound(f"No user {username!r}.")
        return from_item(User, item)

    def update(self, user: User, expected_version: int) -> User:
        key = {"username": av(user.username)}
        return self._t.replace_versioned(user, key, expected_version, f"user {user.username!r}", entity=_ENTITY)

    def list_all(self) -> list[User]:
        return [from_item(User, i) for i in self._t.query_equal("entity-index", "entity", _ENTITY)]
