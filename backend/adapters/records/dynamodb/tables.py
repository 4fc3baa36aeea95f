"""The DynamoDB tables: one definition shared by the adapter, ``python -m backend aws create-tables`` and infra.

Each :class:`TableDef` renders to ``CreateTable`` parameters (:meth:`TableDef.create_params`);
``infra/template.yaml`` declares the same keys and indexes (a test compares them).
All tables are on-demand (PAY_PER_REQUEST), so GSIs carry no throughput settings.

Tables (key; indexes):

* Patients: patient_id; GSI phone-index (phone, created_at), GSI created-index (entity, created_key)
* PatientNameIndex: token_bucket + token_key (word-prefix name search, see patients.py)
* PatientNotes: patient_id + timestamp (N), stream; GSIs changed-index (change_shard, updated_at) and
  drafts-index (draft_shard, updated_at; sparse: drafts only)
* PatientHistory: patient_id + timestamp (N)
* HealthMetrics: patient_id + metric_day; LSI day-index (day_metric); GSI marker-index (marker, patient_id)
* Jobs: job_id; GSI status-index (status, updated_at), GSI patient-index (patient_id, updated_at)
* AuditLog: pk ("ACTOR#name") + sk ("at#seq"); GSI patient-index (patient_pk, sk), GSI all-index (entity, sk)
* Users: username; GSI entity-index (entity, username)
* ApiTokens: secret_hash; GSIs id-index (token_id), user-index (username, created_at),
  entity-index (entity, created_at)
* ChangeFeed: feed + seq (N): the live-events feed, appended by the stream consumer (Jobs, HealthMetrics and
  AuditLog stream too, like PatientNotes)
* SharedState: state_key; TTL expires_ttl: signed-in sessions, rate-limit buckets and sign-in throttles that
  every UI and API task must see alike
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PATIENTS = "Patients"
PATIENT_NAME_INDEX = "PatientNameIndex"
NOTES = "PatientNotes"
HISTORY = "PatientHistory"
METRICS = "HealthMetrics"
JOBS = "Jobs"
AUDIT = "AuditLog"
USERS = "Users"
API_TOKENS = "ApiTokens"
CHANGES = "ChangeFeed"
SHARED_STATE = "SharedState"


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    local: bool = False

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return schema


@dataclass(frozen=True)
class TableDef:
    """A table: its base name, key, attribute types of every key attribute, and indexes."""

    name: str
    hash_key: str
    range_key: str | None
    attributes: dict[str, str]  # attribute name -> "S" | "N"
    indexes: tuple[Index, ...] = ()
    stream: bool = False
    ttl_attribute: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def key_schema(self) -> list[dict[str, str]]:
        return Index("primary", self.hash_key, self.range_key).key_schema()

    def create_params(self, prefix: str = "") -> dict[str, Any]:
        """Keyword arguments for ``client.create_table`` (on-demand billing)."""
        params: dict[str, Any] = {
            "TableName": prefix + self.name,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": [
                {"AttributeName": k, "AttributeType": t} for k, t in sorted(self.attributes.items())
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        gsis = [i for i in self.indexes if not i.local]
        lsis = [i for i in self.indexes if i.local]
        if gsis:
            params["GlobalSecondaryIndexes"] = [
                {"IndexName": i.name, "KeySchema": i.key_schema(), "Projection": {"ProjectionType": "ALL"}}
                for i in gsis
            ]
        if lsis:
            params["LocalSecondaryIndexes"] = [
                {"IndexName": i.name, "KeySchema": i.key_schema(), "Projection": {"ProjectionType": "ALL"}}
                for i in lsis
            ]
        if self.stream:
            params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        return params


TABLES: tuple[TableDef, ...] = (
    TableDef(
        PATIENTS,
        "patient_id",
        None,
        {"patient_id": "S", "phone": "S", "created_at": "N", "entity": "S", "created_key": "S"},
        (Index("phone-index", "phone", "created_at"), Index("created-index", "entity", "created_key")),
    ),
    TableDef(PATIENT_NAME_INDEX, "token_bucket", "token_key", {"token_bucket": "S", "token_key": "S"}),
    TableDef(
        NOTES,
        "patient_id",
        "timestamp",
        {"patient_id": "S", "timestamp": "N", "change_shard": "S", "updated_at": "N", "draft_shard": "S"},
        (Index("changed-index", "change_shard", "updated_at"), Index("drafts-index", "draft_shard", "updated_at")),
        stream=True,
    ),
    TableDef(HISTORY, "patient_id", "timestamp", {"patient_id": "S", "timestamp": "N"}),
    TableDef(
        METRICS,
        "patient_id",
        "metric_day",
        {"patient_id": "S", "metric_day": "S", "day_metric": "S", "marker": "S"},
        (Index("day-index", "patient_id", "day_metric", local=True), Index("marker-index", "marker", "patient_id")),
        stream=True,
    ),
    TableDef(
        JOBS,
        "job_id",
        None,
        {"job_id": "S", "status": "S", "patient_id": "S", "updated_at": "N"},
        (Index("status-index", "status", "updated_at"), Index("patient-index", "patient_id", "updated_at")),
        stream=True,
    ),
    TableDef(
        AUDIT,
        "pk",
        "sk",
        {"pk": "S", "sk": "S", "patient_pk": "S", "entity": "S"},
        (Index("patient-index", "patient_pk", "sk"), Index("all-index", "entity", "sk")),
        stream=True,
    ),
    TableDef(USERS, "username", None, {"username": "S", "entity": "S"}, (Index("entity-index", "entity", "username"),)),
    TableDef(
        API_TOKENS,
        "secret_hash",
        None,
        {"secret_hash": "S", "token_id": "S", "username": "S", "created_at": "N", "entity": "S"},
        (
            Index("id-index", "token_id"),
            Index("user-index", "username", "created_at"),
            Index("entity-index", "entity", "created_at"),
        ),
    ),
    TableDef(CHANGES, "feed", "seq", {"feed": "S", "seq": "N"}),
    TableDef(SHARED_STATE, "state_key", None, {"state_key": "S"}, ttl_attribute="expires_ttl"),
)

BY_NAME: dict[str, TableDef] = {t.name: t for t in TABLES}


def create_tables(client: Any, prefix: str = "", wait: bool = True) -> dict[str, str]:
    """Create every table that does not exist yet under ``prefix``, and add global indexes that a table made
    by an older version lacks; returns what was done per table name ("created" or "added index ...").

    Args:
        client: a boto3 DynamoDB client (any endpoint: AWS or DynamoDB Local).
        prefix: prepended to each base name (e.g. ``"demo-"``).
        wait: block until the new tables (and indexes) are ACTIVE.
    """
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page.get("TableNames", []))
    changed: dict[str, str] = {}
    for table in TABLES:
        params = table.create_params(prefix)
        if params["TableName"] in existing:
            added = add_missing_indexes(client, params, wait)
            if added:
                changed[params["TableName"]] = "added index " + ", ".join(added)
            if enable_missing_stream(client, params, wait):
                name = params["TableName"]
                changed[name] = f"{changed[name]}, stream on" if name in changed else "stream on"
            continue
        client.create_table(**params)
        changed[params["TableName"]] = "created"
        if wait or table.ttl_attribute:
            _wait_active(client, params["TableName"])  # TTL can be turned on only once the table is ACTIVE
        if table.ttl_attribute:
            enable_ttl(client, params["TableName"], table.ttl_attribute)
    return changed


def enable_ttl(client: Any, name: str, attribute: str) -> None:
    """Let DynamoDB delete the table's items once the epoch seconds in ``attribute`` have passed."""
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})


def add_missing_indexes(client: Any, params: dict[str, Any], wait: bool = True) -> list[str]:
    """Create the global secondary indexes of ``params`` that the existing table lacks, one at a time (the
    API allows one index creation per ``UpdateTable``); the table stays in use while they build."""
    name = params["TableName"]
    present = {i["IndexName"] for i in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    added = []
    for index in params.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=params["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        if wait:
            _wait_active(client, name, index=index["IndexName"])
        added.append(index["IndexName"])
    return added


def enable_missing_stream(client: Any, params: dict[str, Any], wait: bool = True) -> bool:
    """Turn on the stream ``params`` asks for on an existing table made without one (live events read it)."""
    spec = params.get("StreamSpecification")
    if not spec:
        return False
    name = params["TableName"]
    if client.describe_table(TableName=name)["Table"].get("StreamSpecification", {}).get("StreamEnabled"):
        return False
    client.update_table(TableName=name, StreamSpecification=spec)
    if wait:
        _wait_active(client, name)
    return True


def _wait_active(client: Any, name: str, timeout: float = 600.0, index: str | None = None) -> None:
    # Polls faster than boto3's waiter (20 s delay): DynamoDB Local is ACTIVE at once, AWS in seconds.
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        described = client.describe_table(TableName=name)["Table"]
        status = described["TableStatus"]
        if index is not None:
            status = next(
                (
                    i.get("IndexStatus", "ACTIVE")
                    for i in described.get("GlobalSecondaryIndexes", [])
                    if i["IndexName"] == index
                ),
                "CREATING",
            )
        if status == "ACTIVE":
            return
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    raise TimeoutError(f"table {name} is not ACTIVE after {timeout:.0f} s")


def delete_tables(client: Any, prefix: str) -> None:
    """Drop the tables of ``prefix`` (tests and the bench clean up with this; never used by the app)."""
    for table in TABLES:
        try:
            client.delete_table(TableName=prefix + table.name)
        except client.exceptions.ResourceNotFoundException:
            continue
