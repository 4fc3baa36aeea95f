"""The dashboard's "patients with anomalies (7 days)" ends on the clinic's today, not the server's date.

The clock is injected and pinned at 00:30 in Kolkata (19:00 UTC the day before), where the two days differ.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.domain.models import MetricDay, Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.cohort import recent_anomalies
from tests.fakes.records import fake_record_store

KOLKATA = ZoneInfo("Asia/Kolkata")
DOCTOR = Principal("dr", Role.DOCTOR)
NOW = int(datetime(2026, 3, 9, 0, 30, tzinfo=KOLKATA).timestamp() * 1000)  # 2026-03-08 19:00 UTC
TODAY = date(2026, 3, 9)  # the clinic's


def _with_fever_on(*spikes: date) -> RecordStore:
    """Two patients with 60 calm days of resting heart rate up to the clinic's today; one spike each."""
    stores = fake_record_store()
    days = []
    for pid, spike in zip(("PAT_0000aaaa", "PAT_0000bbbb"), spikes, strict=True):
        stores.patients.add(Patient(patient_id=pid, name=f"Patient {pid[-4:]}"))
        for back in range(60):
            day = TODAY - timedelta(days=back)
            value = 95.0 if day == spike else 60.0 + (back * 7 % 5) * 0.5  # calm, not constant
            days.append(MetricDay(patient_id=pid, metric="resting_hr", day=day.isoformat(), value=value))
    stores.metrics.upsert_days(days)
    return stores


def test_the_window_ends_on_the_clinics_today() -> None:
    # One fever today (9 March in Kolkata) and one 7 days before (2 March, just outside the window).
    stores = _with_fever_on(TODAY, TODAY - timedelta(days=7))
    rows = recent_anomalies(stores, DOCTOR, days=7, tz=KOLKATA, now=lambda: NOW)
    assert [(r["patient_id"], r["last_anomaly"]) for r in rows] == [("PAT_0000aaaa", "2026-03-09")]
    assert rows[0]["name"] == "Patient aaaa" and rows[0]["metrics"] == ["resting_hr"]


def test_on_the_utc_day_the_same_clock_would_miss_todays_fever() -> None:
    # The server's day at that instant is 8 March: today's fever is "in the future" and the old one counts.
    stores = _with_fever_on(TODAY, TODAY - timedelta(days=7))
    rows = recent_anomalies(stores, DOCTOR, days=7, now=lambda: NOW)
    assert [(r["patient_id"], r["last_anomaly"]) for r in rows] == [("PAT_0000bbbb", "2026-03-02")]
