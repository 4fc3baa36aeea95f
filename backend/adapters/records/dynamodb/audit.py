"""Append-only audit log in DynamoDB.

One item per event: ``pk = "ACTOR#<actor>"``, ``sk = "<at, 15 digits>#<time_ns>#<random>"``
(sorts by time; the suffix keeps two events of the same millisecond apart). The
sparse GSI ``patient-index`` (``patient_pk = "PAT#<id>"``) serves a patient's trail
and ``all-index`` (constant ``entity``) the whole log, newest first. Rows are only ever
put with ``attribute_not_exists``; the app's IAM role has no UpdateItem or DeleteItem on
this table (infra/template.yaml), so the log cannot be rewritten.

Tamper evidence: one global hash chain (see :mod:`backend.domain.audit_chain`). A head item
(``pk = "CHAIN"``, ``sk = "HEAD"``: the newest row's ``chain_seq`` and ``chain_hash``) is
read, and the new row (``chain_seq`` + 1, ``prev_hash``, ``chain_hash``) is written in one
TransactWriteItems with the head, conditional on the head still holding the seq that was read.
Of two concurrent writers one wins; the other's transaction is cancelled and it retries on the
new head, so no two rows ever link to the same predecessor. Cost: a consistent GetItem plus a
two-item transaction (about 4 WCU instead of 1 for a small row), and every append in the
deployment goes through that one head item, so appends are serialised (fine for a clinic's
rate; a chain per partition would scale further but no longer orders the whole log).
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import cancellation_codes, error_code, map_error
from backend.adapters.records.dynamodb.base import SERVICE, Table, av, from_item, plain, to_item
from backend.adapters.records.dynamodb.tables import AUDIT
from backend.domain.audit_chain import GENESIS, ChainLink, event_fields, link_hash
from backend.domain.errors import ConcurrentUpdate
from backend.domain.models import AuditEvent, Page

_ENTITY = "audit"
_MAX_SK = "9" * 16
_HEAD_KEY = {"pk": {"S": "CHAIN"}, "sk": {"S": "HEAD"}}
_CHAIN_ATTRS = ("pk", "sk", "entity", "patient_pk", "chain_seq", "prev_hash", "chain_hash")
_MAX_ATTEMPTS = 60
_RETRYABLE = {"ConditionalCheckFailed", "TransactionConflict"}


class DynamoAuditLog:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + AUDIT)

    def append(self, event: AuditEvent) -> None:
        fields = event_fields(event)
        for attempt in range(_MAX_ATTEMPTS):
            seq, prev = self._read_head()
            row_hash = link_hash(prev, fields)
            sk = f"{event.at:015d}#{time.time_ns():020d}#{secrets.token_hex(4)}"
            extra: dict[str, Any] = {
                "pk": f"ACTOR#{event.actor}",
                "sk": sk,
                "entity": _ENTITY,
                "chain_seq": seq + 1,
                "prev_hash": prev,
                "chain_hash": row_hash,
            }
            if event.patient_id:
                extra["patient_pk"] = f"PAT#{event.patient_id}"
            head = {**_HEAD_KEY, "chain_seq": av(seq + 1), "chain_hash": av(row_hash)}
            head_put: dict[str, Any] = {"TableName": self._t.name, "Item": head}
            if seq == 0:
                head_put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                head_put["ConditionExpression"] = "chain_seq = :seq"
                head_put["ExpressionAttributeValues"] = {":seq": av(seq)}
            row_put = {
                "TableName": self._t.name,
                "Item": to_item(event, **extra),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            try:
                self._t.client.transact_write_items(TransactItems=[{"Put": head_put}, {"Put": row_put}])
                return
            except ClientError as e:
                if error_code(e) not in ("TransactionCanceledException", "TransactionConflictException"):
                    raise map_error(e, SERVICE, f"table {self._t.name}") from e
                if error_code(e) == "TransactionCanceledException" and not _RETRYABLE & set(cancellation_codes(e)):
                    raise map_error(e, SERVICE, f"table {self._t.name}") from e
            except BotoCoreError as e:
                raise map_error(e, SERVICE, f"table {self._t.name}") from e
            # Another writer moved the head (or held it): wait a little, with jitter so losers spread out.
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # nosec B311 - jitter, not security
        raise ConcurrentUpdate("The audit trail is busy with other writers; record the action again.")

    def _read_head(self) -> tuple[int, str]:
        item = self._t.get(_HEAD_KEY)
        if item is None:
            return 0, GENESIS
        head = plain(item)
        return int(head["chain_seq"]), str(head["chain_hash"])

    def chain(self) -> Iterator[ChainLink]:
        """Every row: those before the chain (oldest first), then the chained ones by ``chain_seq``.

        The whole log is read (a Query of ``all-index``, which projects every attribute) and sorted in memory:
        verification is an occasional operator task, not a request path. The index is eventually consistent:
        read :meth:`chain_head` first, and rerun a walk that reports rows missing just after heavy writing.
        """
        before: list[ChainLink] = []
        chained: list[ChainLink] = []
        for item in self._t.query_equal("all-index", "entity", _ENTITY, ScanIndexForward=True):
            row = plain(item)
            fields = {k: v for k, v in row.items() if k not in _CHAIN_ATTRS}
            if "chain_seq" not in row:
                before.append(ChainLink(0, fields, None, None))
                continue
            chained.append(ChainLink(int(row["chain_seq"]), fields, row.get("prev_hash"), row.get("chain_hash")))
        yield from before
        yield from sorted(chained, key=lambda link: link.seq)

    def chain_head(self) -> tuple[int, str] | None:
        item = self._t.get(_HEAD_KEY)
        return None if item is None else self._read_head()

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
