"""AWS error codes map to the domain errors users can act on."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from backend.adapters.aws_errors import aws_client, map_error, retry_config, translated
from backend.domain.errors import ConcurrentUpdate, NotFound, StoreUnavailable


def _err(code: str, **extra: object) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "boom"}, **extra}, "PutItem")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "SlowDown"]
)
def test_throttling_becomes_a_clear_unavailable(code: str) -> None:
    error = map_error(_err(code), "DynamoDB", "table Patients")
    assert isinstance(error, StoreUnavailable)
    assert "throttling" in error.message and "table Patients" in error.message and "try again" in error.message


def test_conditional_failures_are_concurrent_updates() -> None:
    assert isinstance(map_error(_err("ConditionalCheckFailedException"), "DynamoDB", "t"), ConcurrentUpdate)
    cancelled = _err(
        "TransactionCanceledException", CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]
    )
    error = map_error(cancelled, "DynamoDB", "t")
    assert isinstance(error, ConcurrentUpdate) and "reload" in error.message


def test_missing_table_names_the_fix() -> None:
    error = map_error(_err("ResourceNotFoundException"), "DynamoDB", "table Jobs")
    assert isinstance(error, StoreUnavailable) and "create-tables" in error.message


def test_missing_object_is_not_found_and_denied_names_iam() -> None:
    assert isinstance(map_error(_err("NoSuchKey"), "S3", "bucket b"), NotFound)
    denied = map_error(_err("AccessDeniedException"), "S3", "bucket b")
    assert isinstance(denied, StoreUnavailable) and "IAM" in denied.message


def test_transport_and_credential_errors() -> None:
    assert "credentials" in map_error(NoCredentialsError(), "SQS", "queue q").message
    down = map_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "SQS", "queue q")
    assert isinstance(down, StoreUnavailable) and "AWS_ENDPOINT_URL" in down.message


def test_translated_chains_the_cause() -> None:
    with pytest.raises(StoreUnavailable) as info, translated("DynamoDB", "table X"):
        raise _err("InternalServerError")
    assert isinstance(info.value.__cause__, ClientError)


def test_retry_config_is_adaptive() -> None:
    assert retry_config(7).retries == {"mode": "adaptive", "max_attempts": 7}


def test_aws_client_keeps_a_given_client_and_builds_the_default_with_adaptive_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Static credentials, so building the client never asks an instance metadata service (sockets are off).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    given = object()
    assert aws_client("sqs", given) is given
    built = aws_client("sqs", None, "http://127.0.0.1:9", "ap-south-1", max_attempts=3)
    assert (built.meta.service_model.service_name, built.meta.endpoint_url, built.meta.region_name) == (
        "sqs",
        "http://127.0.0.1:9",
        "ap-south-1",
    )
    assert built.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}  # 3 retries after the first try
