"""Times on the pages, in the clinic's time zone (``COPILOT_TIMEZONE``); see ``backend.domain.clock_format``."""

from __future__ import annotations

from datetime import UTC, date, tzinfo

from backend.domain import clock_format
from ui.runtime import get_app


def clinic_tz() -> tzinfo:
    """The clinic's zone, from the process's settings."""
    return get_app().settings.clinic_tz()


def when(ms: int | None, *, zone: bool = True) -> str:
    """``2026-03-08 10:42 IST`` (``zone=False`` in rows under a heading that names the zone); em dash for none."""
    return clock_format.moment_text(ms, clinic_tz(), zone=zone)


def when_seconds(ms: int, *, zone: bool = True) -> str:
    """``2026-03-08 10:42:05 IST``, for the audit trail."""
    return clock_format.moment_text(ms, clinic_tz(), zone=zone, seconds=True)


def day_text(ms: int | None) -> str:
    """The clinic's calendar day of ``ms`` (``2026-03-08``); em dash for none."""
    return clock_format.day_text(ms, clinic_tz())


def clinic_day(ms: int) -> date:
    """The clinic's calendar day of ``ms``."""
    return clock_format.day(ms, clinic_tz())


def clock_text(ms: int) -> str:
    """``10:42 IST``."""
    return clock_format.clock_text(ms, clinic_tz())


def zone_name(ms: int) -> str:
    """The zone's short name at ``ms`` (``IST``), for a column heading such as ``when (IST)``."""
    return clock_format.zone_abbrev(ms, clinic_tz())


def stored_day(ms: int) -> str:
    """A day kept as 00:00 UTC of its ISO date (a wearable day is a date, not an instant): that date, unshifted."""
    return clock_format.day_text(ms, UTC)
