"""Times for people, in the clinic's time zone; records and exports stay in UTC.

Every page, printout and the command line's human output format an instant through these functions, so a clinic
sees its own wall clock ("10:42 IST") while stored epoch milliseconds, FHIR and the REST API keep UTC (ISO 8601
with an offset). Pure: the zone is passed in, never read from the environment here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.domain.errors import ValidationFailed


def clinic_zone(name: str) -> tzinfo:
    """The zone named ``name`` (IANA, e.g. ``Asia/Kolkata``); empty: this machine's local zone, or UTC without one.

    Raises:
        ValidationFailed: ``name`` is not a known IANA zone.
    """
    if not name.strip():
        return _machine_zone()
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValidationFailed(
            f"Unknown time zone {name[:40]!r}; use an IANA name such as Asia/Kolkata or Europe/London."
        ) from e


def _machine_zone() -> tzinfo:
    # A fixed-offset zone from the OS clock is enough for showing times; a container without one is UTC.
    return datetime.now().astimezone().tzinfo or UTC


def local(ms: int, tz: tzinfo) -> datetime:
    """The instant ``ms`` (epoch milliseconds, UTC) on the clinic's wall clock."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)


def zone_abbrev(ms: int, tz: tzinfo) -> str:
    """The zone's short name at ``ms`` (``IST``, ``BST``/``GMT``), or its offset (``+0530``) when it has none."""
    at = local(ms, tz)
    name = at.tzname() or ""
    if name and name[0] not in "+-":
        return name
    return at.strftime("%z") or "UTC"


def day(ms: int, tz: tzinfo) -> date:
    """The clinic's calendar day of ``ms`` (a visit at 23:30 UTC is the next day in India)."""
    return local(ms, tz).date()


def day_text(ms: int | None, tz: tzinfo) -> str:
    """``2026-03-08``, or an em dash for no time."""
    return day(ms, tz).isoformat() if ms else "—"


def clock_text(ms: int, tz: tzinfo, *, zone: bool = True) -> str:
    """``10:42 IST`` (or ``10:42`` when the zone is named elsewhere on the screen)."""
    text = local(ms, tz).strftime("%H:%M")
    return f"{text} {zone_abbrev(ms, tz)}" if zone else text


def moment_text(ms: int | None, tz: tzinfo, *, zone: bool = True, seconds: bool = False) -> str:
    """``2026-03-08 10:42 IST``; ``zone=False`` for rows under a heading that names it; em dash for no time."""
    if not ms:
        return "—"
    text = local(ms, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {zone_abbrev(ms, tz)}" if zone else text
