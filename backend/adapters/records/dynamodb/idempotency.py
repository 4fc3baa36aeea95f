"""Idempotency keys in DynamoDB: items of the ``SharedState`` table keyed ``state_key = "IDEM#<scoped key>"``.

A replay copy is small short-lived state every API process must see alike, which is what that table holds;
its TTL attribute (``expires_ttl``, epoch seconds) lets DynamoDB delete expired copies itself, and every read
also compares ``expires_at`` (epoch ms) with the clock. The response body is stored zlib-compressed: a signed
note with a long consultation's transcript stays far below DynamoDB's 400 KB item limit. A claim is a
conditional PutItem: atomic across processes and hosts.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, plain
from backend.adapters.records.dynamodb.tables import SHARED_STATE
from backend.domain.errors import ConcurrentUpdate
from backend.domain.idempotency import IdempotencyRecord

_PREFIX = "IDEM#"
_NAMES = {"#k": "state_key", "#e": "expires_at", "#f": "fingerprint", "#s": "http_status"}


class DynamoIdempotencyStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + SHARED_STATE)

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        if self._put(record, "attribute_not_exists(#k) OR #e <= :now", {":now": av(now_ms)}):
            return None
        current = self.get(record.key, now_ms)
        if current is None:  # expired between the refused put and the read: claim the free key
            return self.claim(record, now_ms)
        return current

    def complete(self, record: IdempotencyRecord) -> None:
        self._put(record, "#f = :f", {":f": av(record.fingerprint)})

    def release(self, key: str, fingerprint: str) -> None:
        # A refused condition: not this request's pending claim (done, or another's), so nothing to release.
        with contextlib.suppress(ConcurrentUpdate):
            self._t.call(
                "delete_item",
                TableName=self._t.name,
                Key={"state_key": av(_PREFIX + key)},
                ConditionExpression="#f = :f AND attribute_not_exists(#s)",
                ExpressionAttributeNames={"#f": "fingerprint", "#s": "http_status"},
                ExpressionAttributeValues={":f": av(fingerprint)},
            )

    def get(self, key: str, now_ms: int) -> IdempotencyRecord | None:
        item = self._t.get({"state_key": av(_PREFIX + key)})
        if item is None:
            return None
        row = plain(item)
        if int(row["expires_at"]) <= now_ms:
            return None
        status = row.get("http_status")
        return IdempotencyRecord(
            key=key,
            fingerprint=str(row["fingerprint"]),
            expires_at=int(row["expires_at"]),
            status=int(status) if status is not None else None,
            body=zlib.decompress(bytes(row["body"])).decode() if "body" in row else "",
            headers=dict(json.loads(str(row.get("headers", "{}")))),
        )

    def _put(self, record: IdempotencyRecord, condition: str, values: dict[str, Any]) -> bool:
        item: dict[str, Any] = {
            "state_key": av(_PREFIX + record.key),
            "fingerprint": av(record.fingerprint),
            "expires_at": av(record.expires_at),
            "expires_ttl": av(record.expires_at // 1000 + 1),
            "body": {"B": zlib.compress(record.body.encode())},
            "headers": av(json.dumps(record.headers)),
        }
        if record.status is not None:
            item["http_status"] = av(record.status)
        names = {k: v for k, v in _NAMES.items() if k in condition}
        return self._t.put_if(item, condition, names, values)
