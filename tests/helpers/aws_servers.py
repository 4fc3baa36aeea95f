"""Process-wide DynamoDB Local and moto servers for the integration tests.

Both start lazily on first use, bind to loopback, and are stopped (by their own
PID / thread) at interpreter exit; several test modules share one instance.
Tests that need them are skipped with the install command when DynamoDB Local
or Java is missing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from backend.adapters.records.dynamodb.local_server import INSTALL_HINT, DynamoDBLocal, find_jar
from backend.adapters.records.dynamodb.tables import create_tables, delete_tables
from backend.domain.errors import StoreUnavailable

_lock = threading.Lock()
_dynamo: DynamoDBLocal | None = None
_moto: Any = None


def dummy_aws_credentials() -> None:
    """moto and DynamoDB Local ignore credentials, but botocore refuses to sign without some."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def dynamodb_local() -> DynamoDBLocal:
    """The shared DynamoDB Local server (started on first call)."""
    global _dynamo
    with _lock:
        if _dynamo is None:
            if not shutil.which("java"):
                pytest.fail("Java is missing; DynamoDB Local needs a JRE 17+ (`make test` installs it)")
            try:
                find_jar()
            except StoreUnavailable:
                pytest.fail(f"DynamoDB Local is not installed: run `{INSTALL_HINT}` (`make test` does)")
            server = DynamoDBLocal().start()
            atexit.register(server.stop)
            _dynamo = server
        return _dynamo


@contextmanager
def fresh_tables(letter: str = "t") -> Iterator[tuple[Any, str]]:
    """A client of the shared DynamoDB Local and a table prefix of its own whose tables exist inside the block.

    Args:
        letter: starts the prefix, so a test's tables are told apart in the server's list (``t3f9…-Jobs``).
    """
    dummy_aws_credentials()
    ddb = dynamodb_local().client()
    prefix = f"{letter}{uuid.uuid4().hex[:10]}-"
    create_tables(ddb, prefix)
    try:
        yield ddb, prefix
    finally:
        delete_tables(ddb, prefix)


def moto_endpoint() -> str:
    """URL of the shared moto server (S3 + SQS), started on first call."""
    global _moto
    with _lock:
        if _moto is None:
            from moto.server import ThreadedMotoServer

            dummy_aws_credentials()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            atexit.register(server.stop)
            _moto = server
        host, port = _moto.get_host_and_port()
        return f"http://{host}:{port}"


def client(service: str, endpoint_url: str, max_attempts: int = 3) -> Any:
    """A boto3 client for a local endpoint with dummy credentials."""
    import boto3

    from backend.adapters.aws_errors import retry_config

    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=endpoint_url, config=retry_config(max_attempts))
