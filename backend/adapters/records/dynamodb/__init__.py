"""DynamoDB implementations of the record ports (the scale-out store).

Nothing connects at import time: :func:`open_dynamodb_store` builds (or takes) the
client. Tables come from :mod:`backend.adapters.records.dynamodb.tables`; create them with
``python -m backend aws create-tables`` (or CloudFormation, ``infra/template.yaml``).
"""

from __future__ import annotations

from typing import Any

from backend.adapters.records.dynamodb.api_tokens import DynamoApiTokenStore
from backend.adapters.records.dynamodb.audit import DynamoAuditLog
from backend.adapters.records.dynamodb.base import make_client
from backend.adapters.records.dynamodb.changes import DynamoChangeFeed
from backend.adapters.records.dynamodb.jobs import DynamoJobStore
from backend.adapters.records.dynamodb.leases import DynamoLeaseStore
from backend.adapters.records.dynamodb.metrics import DynamoMetricStore
from backend.adapters.records.dynamodb.notes import DynamoHistoryStore, DynamoNoteStore
from backend.adapters.records.dynamodb.patients import DynamoPatientStore
from backend.adapters.records.dynamodb.shared_state import DynamoSharedState
from backend.adapters.records.dynamodb.users import DynamoUserStore
from backend.ports import RecordStore


def open_dynamodb_store(
    prefix: str = "", client: Any = None, endpoint_url: str | None = None, region: str | None = None
) -> RecordStore:
    """All record ports on DynamoDB tables named ``<prefix><Table>``.

    Args:
        prefix: table-name prefix (``COPILOT_TABLE_PREFIX``), e.g. ``"prod-"``.
        client: a boto3 DynamoDB client to use (tests pass one bound to DynamoDB Local).
        endpoint_url: build a client for this endpoint when ``client`` is None
            (``AWS_ENDPOINT_URL`` is honoured by boto3 when both are None).
        region: AWS region for a client built here.
    """
    c = make_client(client, endpoint_url, region)
    return RecordStore(
        patients=DynamoPatientStore(c, prefix),
        users=DynamoUserStore(c, prefix),
        audit=DynamoAuditLog(c, prefix),
        notes=DynamoNoteStore(c, prefix),
        history=DynamoHistoryStore(c, prefix),
        metrics=DynamoMetricStore(c, prefix),
        jobs=DynamoJobStore(c, prefix),
        api_tokens=DynamoApiTokenStore(c, prefix),
        leases=DynamoLeaseStore(c, prefix),
        changes=DynamoChangeFeed(c, prefix),
        state=DynamoSharedState(c, prefix),
    )


__all__ = ["open_dynamodb_store"]
