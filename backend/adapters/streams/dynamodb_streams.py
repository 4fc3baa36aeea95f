"""The stream consumer: the PatientNotes, Jobs, HealthMetrics and AuditLog streams -> the ChangeFeed table.

Coded against the documented DynamoDB Streams API: DescribeTable (the table's LatestStreamArn), DescribeStream
(its shards, paged by LastEvaluatedShardId), GetShardIterator (AFTER_SEQUENCE_NUMBER past the checkpoint, or
TRIM_HORIZON for a shard never read), GetRecords (until a page comes back empty or the shard is closed).
A shard's checkpoint is saved after its changes are appended, so a crash in between appends them again on
restart; the consumer skips changes equal to ones just appended (``Change.key``), so a replay adds nothing.

One consumer process per deployment: the feed's ids stay in append order (two would still never collide,
see ``DynamoChangeFeed``, but could interleave).
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import map_error
from backend.adapters.records.dynamodb.changes import DynamoChangeFeed
from backend.adapters.records.dynamodb.tables import AUDIT, JOBS, METRICS, NOTES
from backend.adapters.streams.records import changes_of
from backend.domain.changes import Change

log = logging.getLogger(__name__)
STREAMED = (NOTES, JOBS, METRICS, AUDIT)
_REPLAY_WINDOW = 200  # recent feed entries compared against a replayed batch
_PAGES_PER_SHARD = 50  # per poll, so one busy shard cannot starve the others


class StreamConsumer:
    """Args: dynamodb / streams: boto3 clients (DynamoDB, DynamoDB Streams); feed: the ChangeFeed table."""

    def __init__(self, dynamodb: Any, streams: Any, feed: DynamoChangeFeed, prefix: str = "") -> None:
        self.dynamodb = dynamodb
        self.streams = streams
        self.feed = feed
        self.prefix = prefix

    def poll_once(self) -> int:
        """Read every shard of every streamed table from its checkpoint; returns how many changes were appended."""
        appended = 0
        for table in STREAMED:
            arn = self._stream_arn(table)
            if arn is None:
                log.warning("table %s%s has no stream; its changes are not in the feed", self.prefix, table)
                continue
            for shard_id in self._shards(arn):
                appended += self._drain(table, arn, shard_id)
        return appended

    def _call(self, client: Any, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(client, op)(**kwargs)
            return result
        except (ClientError, BotoCoreError) as e:
            raise map_error(e, "DynamoDB Streams", op) from e

    def _stream_arn(self, table: str) -> str | None:
        described = self._call(self.dynamodb, "describe_table", TableName=self.prefix + table)["Table"]
        arn = described.get("LatestStreamArn")
        return str(arn) if arn else None

    def _shards(self, arn: str) -> list[str]:
        shards: list[dict[str, Any]] = []
        start: dict[str, str] = {}
        while True:
            page = self._call(self.streams, "describe_stream", StreamArn=arn, **start)["StreamDescription"]
            shards += page.get("Shards", [])
            last = page.get("LastEvaluatedShardId")
            if not last:
                break
            start = {"ExclusiveStartShardId": last}
        # Parents before children: a resharded key's older records are in the parent shard.
        ids = {s["ShardId"] for s in shards}
        roots = [s for s in shards if s.get("ParentShardId") not in ids]
        children = [s for s in shards if s.get("ParentShardId") in ids]
        return [s["ShardId"] for s in roots + children]

    def _drain(self, table: str, arn: str, shard_id: str) -> int:
        checkpoint = self.feed.checkpoint(shard_id)
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoint}
            if checkpoint
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._call(self.streams, "get_shard_iterator", StreamArn=arn, ShardId=shard_id, **position).get(
            "ShardIterator"
        )
        appended = 0
        for _ in range(_PAGES_PER_SHARD):
            if not iterator:
                break  # a closed shard, read to its end
            page = self._call(self.streams, "get_records", ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            if not records:
                break
            fresh = self._not_yet_appended(changes_of(table, records))
            if fresh:
                self.feed.append(fresh)
                appended += len(fresh)
            self.feed.save_checkpoint(shard_id, records[-1]["dynamodb"]["SequenceNumber"])
            iterator = page.get("NextShardIterator")
        return appended

    def _not_yet_appended(self, changes: list[Change]) -> list[Change]:
        last = self.feed.last_id()
        recent = {c.key() for c in self.feed.read_after(max(0, last - _REPLAY_WINDOW), _REPLAY_WINDOW)}
        return [c for c in changes if c.key() not in recent]
