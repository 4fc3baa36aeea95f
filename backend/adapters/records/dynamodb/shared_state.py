"""Shared state in DynamoDB: the ``SharedState`` table, one item per key, updated by conditional writes.

An update reads the item (consistently), computes the new value and writes it only if the item still carries
the version it read (or is still absent); when another process wrote first the write is refused and the update
runs again on the new value, so two API tasks never both spend a bucket's last token. ``expires_ttl`` (epoch
seconds) is the table's TTL attribute: DynamoDB deletes expired items itself, within a day or two, so reads
also compare ``expires_at`` (epoch ms) with the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backend.adapters.records.dynamodb.base import Table, av
from backend.adapters.records.dynamodb.tables import SHARED_STATE
from backend.domain.errors import StoreUnavailable
from backend.ports import StateWrite

MAX_ATTEMPTS = 25  # writers racing on one key (a burst on one token): each retry sees the winner's value
_NAMES = {"#k": "state_key", "#v": "version"}


class DynamoSharedState:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + SHARED_STATE)

    def get(self, key: str, now_ms: int | None = None) -> dict[str, Any] | None:
        item = self._t.get({"state_key": av(key)})
        if item is None or (now_ms is not None and int(item["expires_at"]["N"]) <= now_ms):
            return None
        value: dict[str, Any] = json.loads(item["body"]["S"])
        return value

    def update(
        self, key: str, change: Callable[[dict[str, Any] | None], tuple[StateWrite | None, Any]], now_ms: int
    ) -> Any:
        for _ in range(MAX_ATTEMPTS):
            item = self._t.get({"state_key": av(key)})
            version = int(item["version"]["N"]) if item is not None else 0
            live = item is not None and int(item["expires_at"]["N"]) > now_ms
            write, result = change(json.loads(item["body"]["S"]) if item is not None and live else None)
            if write is None:
                return result
            condition = "attribute_not_exists(#k)" if item is None else "#v = :v"
            values = {":v": av(version)} if item is not None else None
            if self._write(key, write, version + 1, condition, values):
                return result
        raise StoreUnavailable("Shared state is too busy right now (many writers on one key): try again.")

    def delete(self, key: str) -> None:
        self._t.call("delete_item", TableName=self._t.name, Key={"state_key": av(key)})

    def _write(self, key: str, write: StateWrite, version: int, condition: str, values: dict[str, Any] | None) -> bool:
        names = {k: v for k, v in _NAMES.items() if k in condition}
        if write.value is not None:
            item = {
                "state_key": av(key),
                "body": av(json.dumps(write.value, separators=(",", ":"))),
                "expires_at": av(int(write.expires_at_ms)),
                "expires_ttl": av(int(write.expires_at_ms) // 1000 + 1),
                "version": av(version),
            }
            return self._t.put_if(item, condition, names, values)
        return self._t.delete_if({"state_key": av(key)}, condition, names, values)
