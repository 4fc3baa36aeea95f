"""The doctor's cohort view: patients whose wearable data shows anomalies recently, worst first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta, tzinfo
from typing import Any

import pandas as pd

from backend.charts.metrics import cohort_rows
from backend.domain import clock_format
from backend.domain.anomaly import detect_many
from backend.domain.models import now_ms
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, require
from backend.services.audit_shown import record_shown

_LOOKBACK_DAYS = 120  # enough history for the 28-day baseline plus its minimum


def recent_anomalies(
    stores: RecordStore,
    principal: Principal,
    days: int = 7,
    tz: tzinfo = UTC,
    now: Callable[[], int] = now_ms,
) -> list[dict[str, Any]]:
    """Rows of :func:`cohort_rows` for every patient with metrics (one query per patient).

    Args:
        stores: the record store.
        principal: needs Permission.READ_PATIENTS.
        days: the window, ending with the clinic's today.
        tz: the clinic's zone: "the last 7 days" are its calendar days, not the server's (at 01:00 in Kolkata
            the server's UTC date is still yesterday, and a wearable day is a date on the clinic's calendar).
        now: the clock (epoch milliseconds).
    """
    require(principal, Permission.READ_PATIENTS)
    today = clock_format.day(now(), tz)
    since = (today - timedelta(days=_LOOKBACK_DAYS)).isoformat()
    frames = []
    names: dict[str, str] = {}
    for pid in stores.metrics.patients_with_metrics():
        rows = stores.metrics.days(pid, start=since)
        if rows:
            frames.append(
                pd.DataFrame([{"patient_id": pid, "day": r.day, "metric": r.metric, "value": r.value} for r in rows])
            )
    if not frames:
        return []
    scored = detect_many(pd.concat(frames, ignore_index=True))
    out = cohort_rows(scored, days=days, as_of=pd.Timestamp(today))
    for row in out:
        if row["patient_id"] not in names:
            names[row["patient_id"]] = stores.patients.get(row["patient_id"]).name
        row["name"] = names[row["patient_id"]]
    record_shown(stores.audit, principal, "metrics.cohort", [row["patient_id"] for row in out])
    return out
