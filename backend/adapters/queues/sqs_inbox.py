"""The event inbox on SQS: the queue the bucket's object-created notifications go to (raw S3 event bodies)."""

from __future__ import annotations

import json

from backend.adapters.queues.sqs import SqsQueueBase
from backend.ports import InboxMessage


class SqsEventInbox(SqsQueueBase):
    """Args: queue_url: ``COPILOT_UPLOAD_QUEUE_URL``; client: a boto3 SQS client (built when None)."""

    missing_url = "No upload events queue is configured; set COPILOT_UPLOAD_QUEUE_URL."

    def send(self, body: str) -> None:
        json.loads(body)  # only JSON event bodies travel here
        self._call("send_message", MessageBody=body)

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 60) -> InboxMessage | None:
        got = self._receive_one(wait_seconds, visibility_seconds)
        return None if got is None else InboxMessage(*got)

    def ack(self, message: InboxMessage) -> None:
        self._delete(message.receipt)
