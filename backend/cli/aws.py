"""``python -m backend aws ...``: create the DynamoDB tables, the SQS queues and the S3 bucket on any endpoint.

Examples::

    python -m backend aws create-tables --endpoint-url http://127.0.0.1:8000 --prefix demo-
    python -m backend aws create-queues --name copilot-jobs --max-receives 5
    python -m backend aws create-bucket --bucket my-copilot-blobs
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from backend.domain.errors import StoreUnavailable


def register(sub: Any) -> None:
    parser = sub.add_parser("aws", help="create the AWS resources (tables, queues, bucket) on AWS or a local emulator")
    actions = parser.add_subparsers(dest="aws_command", required=True)

    tables = actions.add_parser("create-tables", help="create the DynamoDB tables that do not exist yet")
    _common(tables)
    tables.add_argument("--prefix", default=None, help="table-name prefix (default: COPILOT_TABLE_PREFIX)")
    tables.set_defaults(func=_create_tables)

    queues = actions.add_parser("create-queues", help="create the job queue and its dead-letter queue")
    _common(queues)
    queues.add_argument("--name", default="copilot-jobs")
    queues.add_argument("--max-receives", type=int, default=5, help="receives before a message goes to the DLQ")
    queues.add_argument("--visibility", type=int, default=300, help="default visibility timeout (seconds)")
    queues.set_defaults(func=_create_queues)

    bucket = actions.add_parser("create-bucket", help="create the blob bucket (encrypted, versioned, private)")
    _common(bucket)
    bucket.add_argument("--bucket", default=None, help="bucket name (default: COPILOT_S3_BUCKET)")
    bucket.set_defaults(func=_create_bucket)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", default=None, help="e.g. DynamoDB Local; default: AWS_ENDPOINT_URL or AWS")
    parser.add_argument("--region", default=None, help="default: AWS_REGION / AWS_DEFAULT_REGION / ap-south-1")


def _client(service: str, args: argparse.Namespace) -> Any:
    import boto3

    from backend.adapters.aws_errors import retry_config

    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-south-1"
    return boto3.session.Session().client(
        service, endpoint_url=args.endpoint_url, region_name=region, config=retry_config()
    )


def _create_tables(args: argparse.Namespace) -> int:
    from backend.adapters.aws_errors import translated
    from backend.adapters.records.dynamodb.tables import TABLES, create_tables

    prefix = args.prefix if args.prefix is not None else os.environ.get("COPILOT_TABLE_PREFIX", "")
    with translated("DynamoDB", "create-tables"):
        created = create_tables(_client("dynamodb", args), prefix)
    for table in TABLES:
        name = prefix + table.name
        print(f"{name}: {created.get(name, 'exists')}")
    return 0


def _create_queues(args: argparse.Namespace) -> int:
    from backend.adapters.queues.sqs import create_queues

    url, dlq = create_queues(_client("sqs", args), args.name, args.max_receives, args.visibility)
    print(f"COPILOT_SQS_QUEUE_URL={url}")
    print(f"COPILOT_SQS_DLQ_URL={dlq}")
    return 0


def _create_bucket(args: argparse.Namespace) -> int:
    from backend.adapters.aws_errors import translated

    name = args.bucket or os.environ.get("COPILOT_S3_BUCKET", "")
    if not name:
        raise StoreUnavailable("No bucket name: pass --bucket or set COPILOT_S3_BUCKET.")
    s3 = _client("s3", args)
    with translated("S3", f"bucket {name}"):
        region = s3.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": name}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    print(f"COPILOT_S3_BUCKET={name}")
    return 0
