"""The daily sync on the AWS stores (DynamoDB Local, S3 on moto): every call it makes is one the sync task's role
(``SyncTaskRole`` in infra/services.yaml) grants, on that table or that key prefix.

The calls are recorded at the SDK's edge while a real sync runs (patients listed, a day fetched from the
Ultrahuman stand-in, metrics and raw samples written, the audit trail appended, the day's lease taken and
finished), so a grant the code needs and the template lacks fails here, not on the first night in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from backend.adapters.blobs.s3 import S3BlobStore
from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.adapters.wearables.ultrahuman_api import UltrahumanClient
from backend.domain.models import Patient
from backend.domain.sync_schedule import lease_name
from backend.services.wearable_sync import WearableSyncDeps, sync_wearables
from tests.helpers.aws_servers import client, fresh_tables, moto_endpoint
from tests.helpers.ultrahuman_server import day_response, partner_api
from tests.unit.test_infra_template import TEMPLATES, _as_list, _statements, _text

TOKEN = "partner-token-for-tests-0123456789abcdef"
DAY = date(2026, 11, 30)
# Per-item actions a transaction is authorised by (TransactWriteItems has no action of its own to grant).
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
S3_ACTIONS = {"HeadObject": "s3:GetObject", "GetObject": "s3:GetObject", "PutObject": "s3:PutObject"}


class Recorder:
    """(IAM action, resource) of every call, from botocore's before-parameter-build event (the API's arguments)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.calls: set[tuple[str, str]] = set()
        self.on = True  # off once the run is over (the fixture's table clean-up is not the sync's)

    def dynamodb(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        if not self.on:
            return
        if op == "TransactWriteItems":
            for item in params["TransactItems"]:
                (kind, body), *_rest = item.items()
                self.calls.add((f"dynamodb:{TRANSACT[kind]}", self._table(body["TableName"])))
        elif op in ("BatchWriteItem", "BatchGetItem"):
            for table in params["RequestItems"]:
                self.calls.add((f"dynamodb:{op}", self._table(table)))
        else:
            index = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
            self.calls.add((f"dynamodb:{op}", self._table(params["TableName"]) + index))

    def s3(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self.on:
            self.calls.add((S3_ACTIONS.get(model.name, f"s3:{model.name}"), "bucket/" + params.get("Key", "")))

    def _table(self, name: str) -> str:
        return "table/" + name.removeprefix(self.prefix)


def _granted(action: str, resource: str) -> bool:
    """Whether SyncTaskRole has a statement allowing ``action`` on ``resource`` (table/X[/index/i] or bucket/key)."""
    role = TEMPLATES["services"]["Resources"]["SyncTaskRole"]["Properties"]
    for policy in role["Policies"]:
        for statement in _statements(policy["PolicyDocument"]):
            if action not in _as_list(statement["Action"]):
                continue
            for granted in (_text(r) for r in _as_list(statement["Resource"])):
                if resource.startswith("table/"):
                    table, _, index = resource.removeprefix("table/").partition("/index/")
                    want = f"table/${{TablePrefix}}{table}" + ("/index/*" if index else "")
                    if granted.endswith(want):
                        return True
                elif (
                    resource.startswith("bucket/")
                    and granted.startswith("${Bucket}/")
                    and granted.endswith("/*")
                    and resource.removeprefix("bucket/").startswith(granted.removeprefix("${Bucket}/")[:-1])
                ):
                    return True
    return False


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, Recorder, str]]:
    with fresh_tables() as (ddb, prefix):
        s3 = client("s3", moto_endpoint())
        bucket = f"sync-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=bucket)
        yield ddb, s3, Recorder(prefix), bucket


def test_every_call_of_the_sync_is_granted_to_its_role(aws) -> None:  # type: ignore[no-untyped-def]
    ddb, s3, recorder, bucket = aws
    stores = open_dynamodb_store(recorder.prefix, client=ddb)
    stores.patients.add(Patient(patient_id="PAT_0000000a", name="Asha", ultrahuman_email="asha@example.com"))
    stores.patients.add(Patient(patient_id="PAT_0000000b", name="Bala"))
    ddb.meta.events.register("before-parameter-build.dynamodb", recorder.dynamodb)
    s3.meta.events.register("before-parameter-build.s3", recorder.s3)
    try:
        with partner_api(TOKEN) as (state, base):
            state.days[("asha@example.com", DAY.isoformat())] = day_response(DAY)
            deps = WearableSyncDeps(
                stores, S3BlobStore(bucket, client=s3), UltrahumanClient(base, TOKEN, min_interval=0.0), _ms(), "task-1"
            )
            report = sync_wearables(deps, DAY)
            again = sync_wearables(deps, DAY)
    finally:
        recorder.on = False
    assert report.counts() == {"imported": 1, "skipped": 0, "failed": 0} and again.already_done
    assert stores.leases is not None and stores.leases.get(lease_name(DAY)).done  # type: ignore[union-attr]
    tables = {r.split("/")[1] for _, r in recorder.calls if r.startswith("table/")}
    assert {"Patients", "HealthMetrics", "AuditLog", "Jobs"} <= tables  # the recorder saw the whole run
    # The import keeps no raw file (a file could hold several patients' rows): the sync writes no blob.
    assert not any(a == "s3:PutObject" for a, _ in recorder.calls)
    missing = sorted(call for call in recorder.calls if not _granted(*call))
    assert not missing, f"SyncTaskRole (infra/services.yaml) lacks: {missing}"


def _ms() -> Any:
    ticks = iter(range(1_000_000, 10**9, 1_000))
    return lambda: next(ticks)
