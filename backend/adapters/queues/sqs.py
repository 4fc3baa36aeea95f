"""The job queue on SQS: long polling, visibility extension, a dead-letter queue after N receives.

Messages carry only the job id (the job row holds the state), so handlers stay
idempotent: a redelivered message finds the job already done and acks it.
:func:`create_queues` makes a queue with its DLQ (``RedrivePolicy``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import aws_client, error_code, map_error
from backend.domain.errors import ValidationFailed
from backend.ports import QueueMessage

SERVICE = "SQS"
MAX_WAIT = 20  # SQS long-poll limit (seconds)
MAX_VISIBILITY = 12 * 60 * 60
_STALE_RECEIPT = ("ReceiptHandleIsInvalid", "InvalidParameterValue", "AWS.SimpleQueueService.MessageNotInflight")


class SqsQueueBase:
    """One SQS queue's calls shared by the job queue and the event inbox: errors mapped, one message at a time.

    Args:
        queue_url: the queue's URL (subclasses say which setting in ``missing_url``).
        client: a boto3 SQS client; built (adaptive retries) when None.
    """

    missing_url = "No SQS queue URL is configured; set COPILOT_SQS_QUEUE_URL."

    def __init__(
        self, queue_url: str, client: Any = None, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        if not queue_url:
            raise ValidationFailed(self.missing_url)
        self.queue_url = queue_url
        self.client = aws_client("sqs", client, endpoint_url, region)

    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(QueueUrl=self.queue_url, **kwargs)
            return result
        except (ClientError, BotoCoreError) as e:
            raise map_error(e, SERVICE, f"queue {self.queue_url}") from e

    def _receive_one(self, wait_seconds: float, visibility_seconds: int) -> tuple[str, str, int] | None:
        """Long-poll for one message: (body, receipt handle, receive count), or None when none came."""
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
        message = messages[0]
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        return message["Body"], message["ReceiptHandle"], count

    def _delete(self, receipt: str) -> None:
        self._call("delete_message", ReceiptHandle=receipt)


class SqsJobQueue(SqsQueueBase):
    """JobQueue on one SQS standard queue (at-least-once).

    Args:
        queue_url: ``COPILOT_SQS_QUEUE_URL``.
        client: a boto3 SQS client; built (adaptive retries) when None.
    """

    def send(self, job_id: str) -> None:
        self._call("send_message", MessageBody=json.dumps({"job_id": job_id}))

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 120) -> QueueMessage | None:
        got = self._receive_one(wait_seconds, visibility_seconds)
        if got is None:
            return None
        body, receipt, count = got
        return QueueMessage(job_id=json.loads(body)["job_id"], receipt=receipt, receive_count=count)

    def ack(self, message: QueueMessage) -> None:
        self._delete(message.receipt)

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        try:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message.receipt,
                VisibilityTimeout=min(MAX_VISIBILITY, max(0, int(visibility_seconds))),
            )
        except ClientError as e:
            # The message was already deleted or redelivered to someone else: nothing left to extend.
            if error_code(e) in _STALE_RECEIPT:
                return
            raise map_error(e, SERVICE, f"queue {self.queue_url}") from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"queue {self.queue_url}") from e

    def release(self, message: QueueMessage) -> None:
        self.extend(message, 0)

    def depth(self) -> int:
        """Messages waiting plus in flight (approximate, as SQS reports them)."""
        attrs = self._call(
            "get_queue_attributes",
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        ).get("Attributes", {})
        return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )


def create_queues(client: Any, name: str, max_receives: int = 5, visibility_seconds: int = 300) -> tuple[str, str]:
    """Create ``name`` and ``name-dlq``; a message received ``max_receives`` times moves to the DLQ.

    Returns:
        (queue_url, dlq_url). Idempotent: existing queues with the same attributes are reused.
    """
    try:
        dlq_url = client.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
            "QueueUrl"
        ]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
        url = client.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": policy,
                "VisibilityTimeout": str(visibility_seconds),
                "ReceiveMessageWaitTimeSeconds": "20",
            },
        )["QueueUrl"]
    except (ClientError, BotoCoreError) as e:
        raise map_error(e, SERVICE, f"queue {name}") from e
    return url, dlq_url
