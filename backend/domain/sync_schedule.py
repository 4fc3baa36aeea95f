"""When the daily wearable sync is due: once a day at a local time, for the day before (pure, clock injected).

The sync of day ``D`` (yesterday, in the clinic's zone) is due from ``D + 1`` at the configured time, e.g. 02:30.
A process that starts later that day (the machine was off at 02:30) finds the day due and runs it at once: that is
the catch-up. Whether a day was already synced is not remembered here but in the record store's lease row
(``wearable-sync:D``), so every process of the clinic agrees.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.domain.errors import ValidationFailed

LEASE_PREFIX = "wearable-sync:"
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_at(value: str) -> time:
    """``"HH:MM"`` (24-hour) as a time of day.

    Raises:
        ValidationFailed: not a time such as ``02:30``.
    """
    match = _AT.fullmatch(value.strip())
    if not match:
        raise ValidationFailed(f"The sync time {value[:20]!r} is not a time of day such as 02:30 (24-hour HH:MM).")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str) -> tzinfo:
    """The time zone named ``name`` (e.g. ``Asia/Kolkata``); empty: this machine's local zone.

    Raises:
        ValidationFailed: an unknown zone name.
    """
    if not name.strip():
        return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValidationFailed(f"Unknown time zone {name[:40]!r}; use a name such as Asia/Kolkata.") from e


def day_to_sync(now: datetime, tz: tzinfo) -> date:
    """The day a sync started at ``now`` fetches: yesterday in ``tz``."""
    return now.astimezone(tz).date() - timedelta(days=1)


def due_at(day: date, at: time, tz: tzinfo) -> datetime:
    """When the sync of ``day`` becomes due: the next day at ``at``, local time (an aware datetime)."""
    return datetime.combine(day + timedelta(days=1), at, tzinfo=tz)


def due_day(now: datetime, at: time, tz: tzinfo) -> date | None:
    """The day whose sync is due at ``now`` (yesterday once today's time has passed), else None."""
    day = day_to_sync(now, tz)
    return day if now >= due_at(day, at, tz) else None


def next_due(now: datetime, at: time, tz: tzinfo) -> datetime:
    """The next moment after ``now`` at which a day's sync becomes due (today's time, or tomorrow's)."""
    today = now.astimezone(tz).date()
    candidate = datetime.combine(today, at, tzinfo=tz)
    return candidate if candidate > now else datetime.combine(today + timedelta(days=1), at, tzinfo=tz)


def lease_name(day: date) -> str:
    """The lease row that makes the sync of ``day`` happen at most once."""
    return f"{LEASE_PREFIX}{day.isoformat()}"
