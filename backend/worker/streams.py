"""``python -m backend.worker.streams``: the table streams -> the live-events feed, polling every few seconds.

On AWS it can instead run as a Lambda on a stream event source mapping (``handler``; Lambda then tracks the
shards and checkpoints itself and hands over batches of the same records). Local (SQLite) stores need neither:
their change log is written in the transaction of each change.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

from backend.domain.errors import CopilotError
from backend.worker.process import serve

log = logging.getLogger("backend.worker.streams")
_FEED: list[Any] = []  # the Lambda handler's feed, built on its first batch and reused while the runtime lives


def run(consumer: Any, stop: threading.Event, every_s: float = 2.0) -> None:
    """Poll until ``stop`` is set; a failed poll is logged and tried again (from the last checkpoint)."""
    while not stop.is_set():
        try:
            appended = consumer.poll_once()
            if appended:
                log.info("appended %d changes to the feed", appended)
        except CopilotError as e:
            log.warning("stream poll failed: %s", e.message)
        stop.wait(every_s)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: one batch of stream records (one table's) -> the feed. A failure fails the whole batch,
    which Lambda retries (by halves); appended changes of a retried batch are skipped as replays."""
    from backend.adapters.streams.records import changes_of, table_of
    from backend.config import Settings

    settings = Settings()
    if not _FEED:
        from backend.adapters.records.dynamodb.base import make_client
        from backend.adapters.records.dynamodb.changes import DynamoChangeFeed

        _FEED.append(DynamoChangeFeed(make_client(None, None, settings.aws_region), settings.table_prefix))
    feed = _FEED[0]
    records = event.get("Records", [])
    by_table: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_table.setdefault(table_of(record.get("eventSourceARN", ""), settings.table_prefix), []).append(record)
    recent = {c.key() for c in feed.read_after(max(0, feed.last_id() - 200), 200)}
    appended = 0
    for table, batch in by_table.items():
        fresh = [c for c in changes_of(table, batch) if c.key() not in recent]
        if fresh:
            feed.append(fresh)
            appended += len(fresh)
    return {"batchItemFailures": [], "appended": appended}


def build_stream_consumer(settings: Any) -> Any:
    """The DynamoDB Streams -> ChangeFeed consumer for ``settings`` (the store must be DynamoDB)."""
    from backend.domain.errors import ValidationFailed

    if settings.resolved("store") != "dynamodb":
        raise ValidationFailed("The stream consumer is for the DynamoDB store; SQLite writes its change log itself.")
    import boto3

    from backend.adapters.aws_errors import retry_config
    from backend.adapters.records.dynamodb.changes import DynamoChangeFeed
    from backend.adapters.streams.dynamodb_streams import StreamConsumer

    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", region_name=settings.aws_region, config=retry_config())
    streams = session.client("dynamodbstreams", region_name=settings.aws_region, config=retry_config())
    return StreamConsumer(dynamodb, streams, DynamoChangeFeed(dynamodb, settings.table_prefix), settings.table_prefix)


def main(argv: list[str] | None = None) -> int:
    """Consume the streams of the configured DynamoDB tables until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m backend.worker.streams", description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=2.0, help="seconds between polls")
    args = parser.parse_args(argv)
    from backend.config import Settings

    return serve(lambda: build_stream_consumer(Settings()), lambda consumer, stop: run(consumer, stop, args.every))


if __name__ == "__main__":
    sys.exit(main())
