"""The change feed on DynamoDB: the ChangeFeed table, appended by the stream consumer, read by live events.

Items: ``feed="changes", seq=N`` (one change each); ``feed="counter", seq=0`` holds the newest ``N``;
``feed="checkpoint#<shard id>", seq=0`` holds the stream position a consumer has appended up to. A change and
the counter are written in one transaction conditioned on the counter's old value, so ids only grow and have
no gaps, even with two consumers racing (the loser retries with the next id).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import error_code, map_error
from backend.adapters.records.dynamodb.base import SERVICE, Table, av, plain
from backend.adapters.records.dynamodb.tables import CHANGES
from backend.domain.changes import Change, ChangeKind
from backend.domain.errors import ConcurrentUpdate

_CHANGES = "changes"
_COUNTER = {"feed": av("counter"), "seq": av(0)}
_MAX_TRIES = 20


class DynamoChangeFeed:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + CHANGES)

    def last_id(self) -> int:
        item = self._t.get(_COUNTER)
        return int(plain(item)["last"]) if item else 0

    def read_after(self, after_id: int, limit: int = 100) -> list[Change]:
        page = self._t.call(
            "query",
            TableName=self._t.name,
            KeyConditionExpression="feed = :f AND seq > :a",
            ExpressionAttributeValues={":f": av(_CHANGES), ":a": av(after_id)},
            ConsistentRead=True,
            Limit=limit,
        )
        return [_change(plain(i)) for i in page.get("Items", [])]

    def append(self, changes: list[Change]) -> int:
        last = self.last_id()
        for change in changes:
            last = self._append_one(change, last)
        return last

    def _append_one(self, change: Change, last: int) -> int:
        for _ in range(_MAX_TRIES):
            new = last + 1
            counter_condition = (
                {"ConditionExpression": "attribute_not_exists(feed)"}
                if last == 0
                else {"ConditionExpression": "#l = :l", "ExpressionAttributeValues": {":l": av(last)}}
            )
            counter = {"TableName": self._t.name, "Item": {**_COUNTER, "last": av(new)}, **counter_condition}
            if last:
                counter["ExpressionAttributeNames"] = {"#l": "last"}
            row = {
                "TableName": self._t.name,
                "Item": {
                    "feed": av(_CHANGES),
                    "seq": av(new),
                    "kind": av(change.kind.value),
                    "patient_id": av(change.patient_id),
                    "ref": av(change.ref),
                    "state": av(change.state),
                    "at": av(change.at),
                    "detail": av(json.dumps(change.detail, default=str)),
                },
                "ConditionExpression": "attribute_not_exists(seq)",
            }
            try:
                self._t.client.transact_write_items(TransactItems=[{"Put": counter}, {"Put": row}])
                return new
            except ClientError as e:
                if error_code(e) not in ("TransactionCanceledException", "TransactionConflictException"):
                    raise map_error(e, SERVICE, f"table {self._t.name}") from e
            except BotoCoreError as e:
                raise map_error(e, SERVICE, f"table {self._t.name}") from e
            last = self.last_id()  # another appender moved the counter
        raise ConcurrentUpdate("The change feed is busy with other writers.")

    def checkpoint(self, shard_id: str) -> str | None:
        """The sequence number appended up to in ``shard_id`` (None: start at the shard's oldest record)."""
        item = self._t.get({"feed": av(f"checkpoint#{shard_id}"), "seq": av(0)})
        return str(plain(item)["sequence_number"]) if item else None

    def save_checkpoint(self, shard_id: str, sequence_number: str) -> None:
        self._t.call(
            "put_item",
            TableName=self._t.name,
            Item={"feed": av(f"checkpoint#{shard_id}"), "seq": av(0), "sequence_number": av(sequence_number)},
        )


def _change(item: dict[str, Any]) -> Change:
    return Change(
        id=int(item["seq"]),
        kind=ChangeKind(item["kind"]),
        patient_id=str(item["patient_id"]),
        ref=str(item["ref"]),
        state=str(item["state"]),
        at=int(item["at"]),
        detail=json.loads(item["detail"]),
    )
