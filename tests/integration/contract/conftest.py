"""Fixtures that give each contract test a fresh adapter of every backend.

``record_store``: SQLite file | DynamoDB Local (fresh tables under a unique prefix)
``blob_store``:   local directory | S3 on moto (fresh bucket)
``job_queue``:    SQLite file | SQS on moto (fresh queue)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.adapters.dynamodb import open_dynamodb_store
from backend.adapters.dynamodb.tables import create_tables, delete_tables
from backend.ports import BlobStore, JobQueue, RecordStore
from tests.helpers.aws_servers import client, dummy_aws_credentials, dynamodb_local, moto_endpoint


@pytest.fixture(params=["sqlite", "dynamodb"])
def record_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    if request.param == "sqlite":
        from backend.adapters.sqlite import open_sqlite_store

        yield open_sqlite_store(tmp_path / "copilot.sqlite3")
        return
    dummy_aws_credentials()
    ddb = dynamodb_local().client()
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    create_tables(ddb, prefix)
    try:
        yield open_dynamodb_store(prefix, client=ddb)
    finally:
        delete_tables(ddb, prefix)


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        from backend.adapters.local_blobs import LocalBlobStore

        return LocalBlobStore(tmp_path / "blobs")
    from backend.adapters.s3_blobs import S3BlobStore

    s3 = client("s3", moto_endpoint())
    bucket = f"blobs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return S3BlobStore(bucket, client=s3, multipart_threshold=5 * 1024 * 1024)


@pytest.fixture(params=["sqlite", "sqs"])
def job_queue(request: pytest.FixtureRequest, tmp_path: Path) -> JobQueue:
    if request.param == "sqlite":
        from backend.adapters.sqlite_queue import SqliteJobQueue

        return SqliteJobQueue(tmp_path / "queue.sqlite3")
    from backend.adapters.sqs_queue import SqsJobQueue

    sqs = client("sqs", moto_endpoint())
    url = sqs.create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return SqsJobQueue(url, client=sqs)
