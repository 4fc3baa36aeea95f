"""Synthetic wearable days for demo patients, with an illness episode for some of them."""

from __future__ import annotations

from datetime import date, timedelta

from backend.domain.anomaly import load_rules
from backend.domain.anomaly.synthetic import synth_patient_days
from backend.domain.models import MetricDay
from backend.ports import RecordStore

DEMO_DAYS = 90


def write_demo_metrics(stores: RecordStore, patient_id: str, seed: int, days: int = DEMO_DAYS) -> int:
    """Write ``days`` days ending today; every third patient falls ill 5–9 days before the end."""
    episodes = [(days - 9, days - 5)] if seed % 3 == 0 else []
    start = date.today() - timedelta(days=days - 1)
    frame = synth_patient_days(days, seed, episodes, start=start.isoformat())
    rules = load_rules()
    units = {name: rules.rule(name).unit for name in frame["metric"].unique()}
    return stores.metrics.upsert_days(
        MetricDay(
            patient_id=patient_id,
            metric=str(row.metric),
            day=row.day.date().isoformat(),
            value=round(float(row.value), 2),
            unit=units.get(str(row.metric), ""),
            source="demo",
        )
        for row in frame.itertuples(index=False)
    )
