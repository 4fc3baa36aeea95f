"""DynamoDB Streams records (GetRecords, or a Lambda batch: the same shape) -> changes of the feed.

Only what live events need: a note's insert or status change, a job's insert or status change, and the days
of health data written (one change per patient and batch, spanning its first to last day), and each audit line. Images are read
with the stores' own layout (the model's JSON fields as attributes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from backend.adapters.records.dynamodb.tables import AUDIT, JOBS, METRICS, NOTES
from backend.domain.changes import Change, ChangeKind
from backend.domain.models import now_ms

_DESER = TypeDeserializer()


def table_of(event_source_arn: str, prefix: str = "") -> str:
    """The base table name of a stream ARN (``arn:aws:dynamodb:r:a:table/<prefix><Name>/stream/<label>``)."""
    name = event_source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def changes_of(table: str, records: list[dict[str, Any]]) -> list[Change]:
    """The changes a batch of one table's stream records makes, in stream order."""
    changes: list[Change] = []
    spans: dict[str, tuple[str, str, int]] = {}
    for record in records:
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        data = record.get("dynamodb", {})
        new, old = _image(data.get("NewImage")), _image(data.get("OldImage"))
        at = _at(data.get("ApproximateCreationDateTime"))
        inserted = record["eventName"] == "INSERT"
        if table == NOTES and "status" in new and (inserted or new.get("status") != old.get("status")):
            detail: dict[str, Any] = {"new": True} if inserted else {}
            changes.append(Change(ChangeKind.NOTE, new["patient_id"], str(new["timestamp"]), new["status"], at, detail))
        elif table == JOBS and "status" in new and (inserted or new.get("status") != old.get("status")):
            error = {"error": new.get("error")} if not inserted else {}
            changes.append(Change(ChangeKind.JOB, new["patient_id"], new["job_id"], new["status"], at, error))
        elif table == AUDIT and inserted and "action" in new:  # the chain's head item carries no action
            patient_id = str(new.get("patient_id") or "")
            changes.append(
                Change(ChangeKind.AUDIT, patient_id, new["action"], new["actor"], at, {"role": new.get("role")})
            )
        elif table == METRICS and "day" in new:  # marker items (the index of patients with data) carry no day
            first, last, _ = spans.get(new["patient_id"], (new["day"], new["day"], at))
            spans[new["patient_id"]] = (min(first, new["day"]), max(last, new["day"]), at)
    for patient_id, (first, last, at) in spans.items():
        changes.append(Change(ChangeKind.METRICS, patient_id, first, "imported", at, {"last_day": last}))
    return changes


def _image(image: dict[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    out = {k: _DESER.deserialize(v) for k, v in image.items()}
    return {
        k: int(v) if k == "timestamp" else (str(v) if not isinstance(v, (dict, list)) else v) for k, v in out.items()
    }


def _at(value: Any) -> int:
    # GetRecords gives a datetime (boto3 parses it); a Lambda batch gives epoch seconds.
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value * 1000)
    return now_ms()
