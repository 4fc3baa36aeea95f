"""Daily wearable metrics in SQLite: one row per (patient, metric, day); upserts are idempotent."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from backend.adapters.records.sqlite.changes import log_change
from backend.adapters.records.sqlite.db import Database
from backend.domain.changes import ChangeKind
from backend.domain.models import MetricDay

_BATCH = 5000


class SqliteMetricStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert_days(self, days: Iterable[MetricDay]) -> int:
        written = 0
        iterator = iter(days)
        while batch := list(islice(iterator, _BATCH)):
            with self._db.tx() as conn:
                conn.executemany(
                    "INSERT INTO metrics (patient_id, metric, day, value, unit, n_samples, source) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (patient_id, metric, day) DO UPDATE SET value = excluded.value, unit = excluded.unit, "
                    "n_samples = excluded.n_samples, source = excluded.source",
                    [(d.patient_id, d.metric, d.day, d.value, d.unit, d.n_samples, d.source) for d in batch],
                )
                for patient_id, first, last in _spans(batch):
                    log_change(conn, ChangeKind.METRICS, patient_id, first, "imported", last_day=last)
            written += len(batch)
        return written

    def days(
        self, patient_id: str, metric: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[MetricDay]:
        where, params = ["patient_id = ?"], [patient_id]
        if metric is not None:
            where.append("metric = ?")
            params.append(metric)
        if start is not None:
            where.append("day >= ?")
            params.append(start)
        if end is not None:
            where.append("day <= ?")
            params.append(end)
        rows = self._db.query(
            f"SELECT patient_id, metric, day, value, unit, n_samples, source FROM metrics WHERE {' AND '.join(where)} ORDER BY day, metric",  # noqa: S608  # nosec B608 - fixed SQL text (constant table/clauses), values bound
            params,
        )
        return [MetricDay(**dict(r)) for r in rows]

    def patients_with_metrics(self) -> list[str]:
        return [r["patient_id"] for r in self._db.query("SELECT DISTINCT patient_id FROM metrics ORDER BY patient_id")]


def _spans(batch: list[MetricDay]) -> list[tuple[str, str, str]]:
    """(patient, first day, last day) of each patient in a batch: one change per patient, not per row."""
    spans: dict[str, tuple[str, str]] = {}
    for d in batch:
        first, last = spans.get(d.patient_id, (d.day, d.day))
        spans[d.patient_id] = (min(first, d.day), max(last, d.day))
    return [(p, first, last) for p, (first, last) in sorted(spans.items())]
