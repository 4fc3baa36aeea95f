"""MetricStore contract: idempotent upserts, ranges by metric and day, patients with metrics."""

from __future__ import annotations

from backend.domain.models import MetricDay
from backend.ports import RecordStore


def _day(patient: str, metric: str, day: int, value: float) -> MetricDay:
    return MetricDay(patient_id=patient, metric=metric, day=f"2025-03-{day:02d}", value=value, unit="bpm", source="csv")


def test_upsert_is_idempotent_and_last_value_wins(record_store: RecordStore) -> None:
    m = record_store.metrics
    assert m.upsert_days([_day("P1", "resting_hr", d, 60 + d) for d in range(1, 11)]) == 10
    assert m.upsert_days([_day("P1", "resting_hr", 5, 99.5), _day("P1", "resting_hr", 5, 71.25)]) == 2
    days = m.days("P1", "resting_hr")
    assert len(days) == 10
    assert [d.value for d in days if d.day == "2025-03-05"] == [71.25]
    assert [d.day for d in days] == sorted(d.day for d in days)


def test_ranges_and_metric_filter(record_store: RecordStore) -> None:
    m = record_store.metrics
    m.upsert_days([_day("P1", metric, d, float(d)) for metric in ("hrv", "resting_hr", "hr") for d in range(1, 8)])
    m.upsert_days([_day("P2", "hrv", 1, 50.0)])
    assert [d.day for d in m.days("P1", "hrv", "2025-03-03", "2025-03-05")] == [
        "2025-03-03",
        "2025-03-04",
        "2025-03-05",
    ]
    assert [d.metric for d in m.days("P1", "hr")] == ["hr"] * 7
    both = m.days("P1", start="2025-03-06")
    assert [(d.day, d.metric) for d in both] == [
        ("2025-03-06", "hr"), ("2025-03-06", "hrv"), ("2025-03-06", "resting_hr"),
        ("2025-03-07", "hr"), ("2025-03-07", "hrv"), ("2025-03-07", "resting_hr"),
    ]  # fmt: skip
    assert [d.day for d in m.days("P1", "hrv", end="2025-03-02")] == ["2025-03-01", "2025-03-02"]
    assert m.days("P3") == []
    assert m.patients_with_metrics() == ["P1", "P2"]
