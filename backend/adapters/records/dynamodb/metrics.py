"""Daily wearable metrics in ``HealthMetrics``: key patient_id + ``metric_day = "<metric>#<day>"``.

* one metric over a date range: a key range on ``metric_day`` (BETWEEN);
* all metrics over a date range: the LSI ``day-index`` on ``day_metric = "<day>#<metric>"``,
  which also gives the (day, metric) order the port promises;
* ``patients_with_metrics``: one marker item per patient (``metric_day = "#patient"``,
  ``marker = "M"``) in the sparse GSI ``marker-index``.

Upserts are BatchWriteItem puts (idempotent: same key, same item).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, from_item, plain, to_item
from backend.adapters.records.dynamodb.tables import METRICS
from backend.domain.models import MetricDay

_BATCH = 500
_MARKER_SK = "#patient"
_MARKER = "M"
_END = "\uffff"


class DynamoMetricStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + METRICS)

    def upsert_days(self, days: Iterable[MetricDay]) -> int:
        written = 0
        iterator = iter(days)
        while batch := list(islice(iterator, _BATCH)):
            # BatchWriteItem refuses two puts of one key in a request: the last value wins, as in an upsert.
            by_key = {(d.patient_id, d.metric, d.day): d for d in batch}
            requests = [
                {"PutRequest": {"Item": to_item(d, metric_day=f"{d.metric}#{d.day}", day_metric=f"{d.day}#{d.metric}")}}
                for d in by_key.values()
            ]
            requests += [
                {"PutRequest": {"Item": {"patient_id": av(pid), "metric_day": av(_MARKER_SK), "marker": av(_MARKER)}}}
                for pid in sorted({d.patient_id for d in batch})
            ]
            self._t.batch_write(requests)
            written += len(batch)
        return written

    def days(
        self, patient_id: str, metric: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[MetricDay]:
        values = {":p": av(patient_id)}
        if metric is not None:
            values[":lo"] = av(f"{metric}#{start or ''}")
            values[":hi"] = av(f"{metric}#{end or _END}{_END if end else ''}")
            condition = "patient_id = :p AND metric_day BETWEEN :lo AND :hi"
            params: dict[str, Any] = {}
        else:
            values[":lo"] = av(start or "0")
            values[":hi"] = av(f"{end}#{_END}" if end else _END)
            condition = "patient_id = :p AND day_metric BETWEEN :lo AND :hi"
            params = {"IndexName": "day-index"}
        items = self._t.query_all(KeyConditionExpression=condition, ExpressionAttributeValues=values, **params)
        out = [from_item(MetricDay, i) for i in items]
        if metric is not None:
            out.sort(key=lambda d: (d.day, d.metric))
        return out

    def patients_with_metrics(self) -> list[str]:
        items = self._t.query_equal("marker-index", "marker", _MARKER)
        return [plain(i)["patient_id"] for i in items]
