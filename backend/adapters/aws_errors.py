"""AWS errors -> domain errors, by error code (never by message text).

Every AWS adapter (DynamoDB, S3, SQS) wraps its SDK calls with :func:`aws_call`
so a caller only ever sees :class:`~backend.domain.errors.CopilotError` subclasses
with a message that names the problem and the fix. Retries happen inside botocore
(:func:`retry_config`, adaptive mode); what reaches us is final.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, NoCredentialsError

from backend.domain.errors import ConcurrentUpdate, CopilotError, NotFound, StoreUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5

THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
    }
)
UNAVAILABLE = frozenset({"InternalServerError", "InternalFailure", "ServiceUnavailable", "InternalError", "503"})
NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
MISSING_RESOURCE = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchBucket",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
    }
)
DENIED = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "KMS.AccessDeniedException",
    }
)


def retry_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, **extra: Any) -> Config:
    """Botocore config with adaptive retries (client-side rate limiting + backoff on throttling).

    ``max_attempts`` is botocore's retry count after the first try (so 5 -> up to 6 requests).
    """
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, **extra)


def aws_client(
    service: str,
    client: Any = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Any:
    """Return ``client``, or build a ``service`` client with adaptive retries (:func:`retry_config`).

    Every AWS adapter takes an optional client (tests pass one for moto or DynamoDB Local); this is the one
    place that builds the default. ``AWS_ENDPOINT_URL`` is honoured by boto3 itself.
    """
    if client is not None:
        return client
    import boto3  # here, not at the top: the error mapping is imported where boto3 is never needed

    return boto3.session.Session().client(
        service, endpoint_url=endpoint_url, region_name=region, config=retry_config(max_attempts)
    )


def error_code(error: ClientError) -> str:
    """The AWS error code of ``error`` (e.g. ``ConditionalCheckFailedException``)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item reasons of a ``TransactionCanceledException`` (``"None"`` for items that were fine)."""
    reasons = error.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


def map_error(error: Exception, service: str, what: str) -> CopilotError:
    """Translate an SDK exception into the domain error a user can act on.

    Args:
        error: a ``ClientError`` or ``BotoCoreError`` raised by boto3.
        service: "DynamoDB", "S3" or "SQS" (named in the message).
        what: the resource being touched, e.g. ``table Patients`` (named in the message).
    """
    if isinstance(error, CopilotError):
        return error
    if isinstance(error, NoCredentialsError):
        return StoreUnavailable(
            f"No AWS credentials were found for {service} ({what}). Configure the standard AWS credential chain "
            "(environment, profile or role) or switch the store back to the local one."
        )
    if isinstance(error, ConnectionError):
        return StoreUnavailable(
            f"{service} could not be reached ({what}): {error}. Check the network or AWS_ENDPOINT_URL and try again."
        )
    if isinstance(error, BotoCoreError):
        return StoreUnavailable(f"{service} request failed ({what}): {error}. Try again in a moment.")
    if not isinstance(error, ClientError):
        raise TypeError(f"not an AWS error: {error!r}")
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return ConcurrentUpdate()
    if code == "TransactionCanceledException":
        reasons = cancellation_codes(error)
        if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
            return ConcurrentUpdate()
        if any(r in THROTTLING or r == "ThrottlingError" for r in reasons):
            return _throttled(service, what)
        return StoreUnavailable(f"{service} cancelled a transaction on {what} ({', '.join(reasons)}). Try again.")
    if code == "TransactionConflictException":
        return ConcurrentUpdate()
    if code in THROTTLING:
        return _throttled(service, what)
    if code in UNAVAILABLE:
        return StoreUnavailable(f"{service} is having problems ({code}) with {what}; try again in a minute.")
    if code in NOT_FOUND:
        return NotFound(f"Nothing stored under {what}.")
    if code in MISSING_RESOURCE:
        hint = "run `python -m backend aws create-tables`" if service == "DynamoDB" else "check the configured name/URL"
        return StoreUnavailable(f"The {service} resource for {what} does not exist ({code}); {hint}.")
    if code in DENIED:
        return StoreUnavailable(
            f"AWS refused access to {service} ({what}): {code}. Check the credentials and the IAM role's permissions."
        )
    message = error.response.get("Error", {}).get("Message", "")
    return StoreUnavailable(f"{service} rejected a request on {what}: {code} {message}".strip())


def _throttled(service: str, what: str) -> StoreUnavailable:
    return StoreUnavailable(
        f"{service} is throttling requests to {what} and still did after several retries. "
        "Wait a minute and try again; if it keeps happening, raise the table's capacity (or use on-demand billing)."
    )


@contextmanager
def translated(service: str, what: str) -> Iterator[None]:
    """Context manager: re-raise SDK errors as domain errors (``raise ... from e``)."""
    try:
        yield
    except (ClientError, BotoCoreError) as e:
        raise map_error(e, service, what) from e


def aws_call(fn: Callable[..., T], service: str, what: str, **kwargs: Any) -> T:
    """Call ``fn(**kwargs)`` translating SDK errors; for code paths that inspect no error codes themselves."""
    with translated(service, what):
        return fn(**kwargs)


__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "aws_call",
    "cancellation_codes",
    "error_code",
    "map_error",
    "retry_config",
    "translated",
]


def delete_quietly(s3: Any, bucket: str, key: str) -> None:
    """Best-effort removal of a temporary S3 object (audio or a PDF sent to an AWS AI service).

    Failures are logged by error type only (never the content) and never raised: the caller's result stands,
    and the bucket's lifecycle rule on ``tmp/`` is the safety net.
    """
    try:
        s3.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as e:
        log.warning("could not delete s3://%s/%s: %s", bucket, key, type(e).__name__)
