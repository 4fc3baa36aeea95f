"""Idempotency keys in DynamoDB: items of the ``Jobs`` table keyed ``job_id = "IDEM#<scoped key>"``.

Like the leases, a replay copy is short-lived run-control data, so it lives beside the jobs instead of in a
table of its own (nothing new to create, back up or grant); it carries neither ``status`` nor ``patient_id``
(the response's status is ``http_status``), so it never enters the jobs' indexes or the live-event feed.
A claim is a conditional PutItem: atomic across processes and hosts. ``expires_at`` is checked on every read;
an expired item is overwritten by the next claim of its key.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, plain
from backend.adapters.records.dynamodb.tables import JOBS
from backend.domain.errors import ConcurrentUpdate
from backend.domain.idempotency import IdempotencyRecord

_PREFIX = "IDEM#"
_NAMES = {"#k": "job_id", "#e": "expires_at", "#f": "fingerprint", "#s": "http_status"}


class DynamoIdempotencyStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + JOBS)

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
                Key={"job_id": av(_PREFIX + key)},
                ConditionExpression="#f = :f AND attribute_not_exists(#s)",
                ExpressionAttributeNames={"#f": "fingerprint", "#s": "http_status"},
                ExpressionAttributeValues={":f": av(fingerprint)},
            )

    def get(self, key: str, now_ms: int) -> IdempotencyRecord | None:
        item = self._t.get({"job_id": av(_PREFIX + key)})
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
            body=str(row.get("body", "")),
            headers=dict(json.loads(str(row.get("headers", "{}")))),
        )

    def _put(self, record: IdempotencyRecord, condition: str, values: dict[str, Any]) -> bool:
        item: dict[str, Any] = {
            "job_id": av(_PREFIX + record.key),
            "fingerprint": av(record.fingerprint),
            "expires_at": av(record.expires_at),
            "body": av(record.body),
            "headers": av(json.dumps(record.headers)),
        }
        if record.status is not None:
            item["http_status"] = av(record.status)
        names = {k: v for k, v in _NAMES.items() if k in condition}
        return self._t.put_if(item, condition, names, values)
