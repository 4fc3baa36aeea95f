"""When the daily wearable sync runs: the due-time rules and the local worker's stepper, on an injected clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.domain.errors import StoreUnavailable, ValidationFailed
from backend.domain.sync_schedule import day_to_sync, due_day, lease_name, next_due, parse_at, zone
from backend.services.wearable_sync import PatientSync, SyncReport
from backend.worker.daily_sync import DailySync

IST = ZoneInfo("Asia/Kolkata")
AT = time(2, 30)


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=IST)


def test_parse_at_and_zone() -> None:
    assert parse_at("02:30") == time(2, 30) and parse_at(" 7:05 ") == time(7, 5) and parse_at("23:59") == time(23, 59)
    for bad in ("2:3", "24:00", "02:60", "half past two", ""):
        with pytest.raises(ValidationFailed, match="02:30"):
            parse_at(bad)
    assert zone("Asia/Kolkata") == IST and zone("").utcoffset(datetime.now()) is not None
    with pytest.raises(ValidationFailed, match="Asia/Kolkata"):
        zone("Mars/Olympus")


def test_yesterday_is_the_clinics_yesterday_not_utcs() -> None:
    # 01:00 in India on 2 December is still 1 December in UTC: the sync fetches 1 December either way.
    assert day_to_sync(ist(2, 1), IST) == date(2026, 12, 1)
    assert day_to_sync(ist(2, 1).astimezone(ZoneInfo("UTC")), IST) == date(2026, 12, 1)
    assert lease_name(date(2026, 12, 1)) == "wearable-sync:2026-12-01"


def test_due_from_the_configured_time_until_the_day_rolls_over() -> None:
    assert due_day(ist(2, 2, 29), AT, IST) is None
    assert due_day(ist(2, 2, 30), AT, IST) == date(2026, 12, 1)
    assert due_day(ist(2, 23, 59), AT, IST) == date(2026, 12, 1)  # a machine started late in the day catches up
    assert due_day(ist(3, 0, 10), AT, IST) is None  # after midnight: 2 December is due only from 02:30
    assert next_due(ist(2, 1), AT, IST) == ist(2, 2, 30)
    assert next_due(ist(2, 2, 30), AT, IST) == ist(3, 2, 30)


def test_next_due_on_the_night_clocks_go_forward() -> None:
    london, utc = ZoneInfo("Europe/London"), ZoneInfo("UTC")
    now = datetime(2026, 3, 29, 0, 30, tzinfo=london)  # 02:30 does not exist that night (01:00 -> 02:00)
    due = next_due(now, AT, london)
    wait = due.astimezone(utc) - now.astimezone(utc)
    assert due.date() == date(2026, 3, 29) and timedelta(0) < wait <= timedelta(hours=3)
    assert due_day(due, AT, london) == date(2026, 3, 28)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _report(day: date, *, failed: bool = False, ran: bool = True, already_done: bool = False) -> SyncReport:
    patients = [PatientSync("PAT_00000001", "failed" if failed else "imported", "HTTP 503" if failed else "")]
    return SyncReport(day.isoformat(), ran=ran, already_done=already_done, patients=patients if ran else [])


def _schedule(clock: Clock, outcomes: list[str]) -> tuple[DailySync, list[tuple[date, datetime]]]:
    runs: list[tuple[date, datetime]] = []

    def run(day: date) -> SyncReport:
        runs.append((day, clock.now))
        outcome = outcomes.pop(0) if outcomes else "ok"
        if outcome == "store down":
            raise StoreUnavailable("The database is busy; try again in a moment.")
        return _report(day, failed=outcome == "failed", ran=outcome != "done", already_done=outcome == "done")

    return DailySync(run=run, at=AT, tz=IST, now=clock, retry_s=3600, max_runs=3), runs


def test_runs_once_a_day_at_the_time() -> None:
    clock = Clock(ist(2, 1))
    schedule, runs = _schedule(clock, [])
    for _ in range(4):
        clock.wait(schedule.step())
    assert runs == [
        (date(2026, 12, 1), ist(2, 2, 30)),
        (date(2026, 12, 2), ist(3, 2, 30)),
        (date(2026, 12, 3), ist(4, 2, 30)),
    ]


def test_a_missed_run_is_caught_up_at_start_and_a_done_day_is_left() -> None:
    clock = Clock(ist(2, 9, 15))  # the machine was off at 02:30
    schedule, runs = _schedule(clock, [])
    clock.wait(schedule.step())
    assert runs == [(date(2026, 12, 1), ist(2, 9, 15))] and clock.now == ist(3, 2, 30)
    # Another process (or the command line) synced the day already: the lease says so, nothing is retried.
    clock = Clock(ist(2, 9, 15))
    schedule, runs = _schedule(clock, ["done"])
    assert schedule.step() == (ist(3, 2, 30) - ist(2, 9, 15)).total_seconds()
    assert date(2026, 12, 1) in schedule.settled and len(runs) == 1


def test_failures_are_retried_an_hour_apart_a_few_times_then_left() -> None:
    clock = Clock(ist(2, 2, 30))
    schedule, runs = _schedule(clock, ["failed", "store down", "failed", "failed"])
    for _ in range(4):
        clock.wait(schedule.step())
    assert [at for _, at in runs] == [ist(2, 2, 30), ist(2, 3, 30), ist(2, 4, 30), ist(3, 2, 30)]
    assert [day for day, _ in runs] == [date(2026, 12, 1)] * 3 + [date(2026, 12, 2)]
