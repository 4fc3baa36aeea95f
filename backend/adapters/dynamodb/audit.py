"""Append-only audit log in DynamoDB.

One item per event: ``pk = "ACTOR#<actor>"``, ``sk = "<at, 15 digits>#<time_ns>#<random>"``
(sorts by time; the suffix keeps two events of the same millisecond apart). The
sparse GSI ``patient-index`` (``patient_pk = "PAT#<id>"``) serves a patient's trail
and ``all-index`` (constant ``entity``) the whole log, newest first. Writes are only
``PutItem`` with ``attribute_not_exists``; the app's IAM role has no UpdateItem or
DeleteItem on this table (infra/template.yaml), so the log cannot be rewritten.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from backend.adapters.dynamodb.base import Table, av, from_item, to_item
from backend.adapters.dynamodb.tables import AUDIT
from backend.domain.errors import ConcurrentUpdate
from backend.domain.models import AuditEvent, Page

_ENTITY = "audit"
_MAX_SK = "9" * 16


class DynamoAuditLog:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + AUDIT)

    def append(self, event: AuditEvent) -> None:
        sk = f"{event.at:015d}#{time.time_ns():020d}#{secrets.token_hex(4)}"
        extra: dict[str, Any] = {"pk": f"ACTOR#{event.actor}", "sk": sk, "entity": _ENTITY}
        if event.patient_id:
            extra["patient_pk"] = f"PAT#{event.patient_id}"
        if not self._t.put_new(to_item(event, **extra), "pk"):
            raise ConcurrentUpdate("Two audit events got the same key; record the action again.")

    def query(
        self,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[AuditEvent]:
        names = {"#h": "pk"}
        values: dict[str, Any] = {}
        params: dict[str, Any] = {"ScanIndexForward": False}
        keys: tuple[str, ...] = ("pk", "sk")
        if patient_id is not None:
            params["IndexName"] = "patient-index"
            names["#h"] = "patient_pk"
            values[":h"] = av(f"PAT#{patient_id}")
            keys = ("pk", "sk", "patient_pk")
            if actor is not None:
                # Both filters: the patient's trail is the smaller set; the actor is checked per item.
                params["FilterExpression"] = "#actor = :actor"
                names["#actor"] = "actor"
                values[":actor"] = av(actor)
        elif actor is not None:
            values[":h"] = av(f"ACTOR#{actor}")
        else:
            params["IndexName"] = "all-index"
            names["#h"] = "entity"
            values[":h"] = av(_ENTITY)
            keys = ("pk", "sk", "entity")
        condition = "#h = :h"
        if since is not None:
            condition += " AND #s BETWEEN :lo AND :hi"
            names["#s"] = "sk"
            values[":lo"] = av(f"{since:015d}")
            values[":hi"] = av(_MAX_SK)
        items, nxt = self._t.query_page(
            keys,
            limit,
            cursor,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **params,
        )
        return Page[AuditEvent](items=[from_item(AuditEvent, i) for i in items], next_cursor=nxt)
