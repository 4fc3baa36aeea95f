"""The event inbox on SQS: the queue the bucket's object-created notifications go to (raw S3 event bodies)."""

from __future__ import annotations

import json
import math
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import map_error, retry_config
from backend.adapters.queues.sqs import MAX_VISIBILITY, MAX_WAIT, SERVICE
from backend.domain.errors import ValidationFailed
from backend.ports import InboxMessage


class SqsEventInbox:
    """Args: queue_url: ``COPILOT_UPLOAD_QUEUE_URL``; client: a boto3 SQS client (built when None)."""

    def __init__(
        self, queue_url: str, client: Any = None, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        if not queue_url:
            raise ValidationFailed("No upload events queue is configured; set COPILOT_UPLOAD_QUEUE_URL.")
        self.queue_url = queue_url
        self.client = client or boto3.session.Session().client(
            "sqs", endpoint_url=endpoint_url, region_name=region, config=retry_config()
        )

    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(QueueUrl=self.queue_url, **kwargs)
            return result
        except (ClientError, BotoCoreError) as e:
            raise map_error(e, SERVICE, f"queue {self.queue_url}") from e

    def send(self, body: str) -> None:
        json.loads(body)  # only JSON event bodies travel here
        self._call("send_message", MessageBody=body)

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 60) -> InboxMessage | None:
        response = self._call(
            "receive_message",
            MaxNumberOfMessages=1,
            WaitTimeSeconds=min(MAX_WAIT, max(0, math.ceil(wait_seconds))),
            VisibilityTimeout=min(MAX_VISIBILITY, max(0, int(visibility_seconds))),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages") or []
        if not messages:
            return None
        m = messages[0]
        count = int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        return InboxMessage(m["Body"], m["ReceiptHandle"], count)

    def ack(self, message: InboxMessage) -> None:
        self._call("delete_message", ReceiptHandle=message.receipt)
