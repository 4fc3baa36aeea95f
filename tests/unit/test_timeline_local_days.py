"""A timeline date filter means the clinic's days, also for the items that are days (anomalies, dated documents).

An anomaly episode and a document dated on paper are kept at 00:00 UTC of their date. West of UTC that instant is
the evening before, east of it the morning of the day: filtering by the clinic's day must still find exactly the
items of that day. The bounds are what the timeline page sends for a one-day range (its 00:00 to 23:59:59.999 in
the clinic's zone).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.domain.timeline import day_start_ms
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.timeline import build_timeline
from tests.fakes.records import fake_record_store
from tests.helpers.clinic_time import KOLKATA, at_ms

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DOCTOR = Principal("dr", Role.DOCTOR)
PID = "PAT_0000aaaa"


def _one_day(day: str, tz: ZoneInfo) -> tuple[int, int]:
    d = datetime.fromisoformat(day).date()
    start = int(datetime.combine(d, time.min, tz).timestamp() * 1000)
    end = int(datetime.combine(d, time.max, tz).timestamp() * 1000)
    return start, end


def _episodes(patient_id: str) -> list[dict[str, Any]]:
    return [{"start_day": "2026-03-09", "end_day": "2026-03-09", "metric": "resting_hr", "explanation": "RHR up."}]


def _stores() -> RecordStore:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=day_start_ms("2026-03-09"),  # uploaded at 00:00 UTC of its paper date, so both coincide
            document_key="blob-1",
            document_date="2026-03-09",
            medications=[Medication(name="amlodipine", strength="5 mg", verified=True)],
        )
    )
    return stores


def _kinds_on(stores: RecordStore, day: str, tz: ZoneInfo) -> list[str]:
    start, end = _one_day(day, tz)
    page = build_timeline(stores, DOCTOR, PID, start_ms=start, end_ms=end, episodes_for=_episodes, tz=tz)
    return sorted(i.kind for i in page.items)


def test_west_of_utc_a_day_finds_its_dated_document_and_anomaly_and_the_day_before_does_not() -> None:
    stores = _stores()
    # 00:00 UTC on 9 March is 16:00 on 8 March in Los Angeles: as instants both items would sit on the 8th.
    assert _kinds_on(stores, "2026-03-09", LOS_ANGELES) == ["anomaly", "document"]
    assert _kinds_on(stores, "2026-03-08", LOS_ANGELES) == []


def test_east_of_utc_the_next_day_does_not_take_in_the_anomaly() -> None:
    stores = _stores()
    # The 10th in Kolkata starts at 18:30 UTC on the 9th, inside the 9th's UTC hours.
    assert _kinds_on(stores, "2026-03-09", KOLKATA) == ["anomaly", "document"]
    assert _kinds_on(stores, "2026-03-10", KOLKATA) == []


def test_a_note_near_midnight_is_filtered_by_its_instant_on_the_clinics_day() -> None:
    stores = _stores()
    late = at_ms("2026-03-08T23:50", LOS_ANGELES)  # 07:50 UTC on the 9th
    stores.notes.add(
        Note(patient_id=PID, timestamp=late, status=NoteStatus.SIGNED, sections={"plan": "Rest."}, updated_at=late)
    )
    assert _kinds_on(stores, "2026-03-08", LOS_ANGELES) == ["note"]
    assert _kinds_on(stores, "2026-03-09", LOS_ANGELES) == ["anomaly", "document"]


def test_a_filter_that_starts_mid_day_still_finds_that_days_items() -> None:
    stores = _stores()
    start = at_ms("2026-03-09T10:00", LOS_ANGELES)
    page = build_timeline(stores, DOCTOR, PID, start_ms=start, episodes_for=_episodes, tz=LOS_ANGELES)
    assert sorted(i.kind for i in page.items) == ["anomaly", "document"]
