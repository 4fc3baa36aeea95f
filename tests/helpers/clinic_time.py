"""Instants pinned near midnight in zones where the clinic's day and the UTC day differ (tests of local days)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def at_ms(text: str, tz: ZoneInfo) -> int:
    """Epoch milliseconds of the wall-clock time ``text`` (ISO 8601, no offset) in ``tz``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1000)


# 00:30 IST on 9 March is 19:00 UTC on 8 March; 00:15 IST on 2 April is 18:45 UTC on 1 April.
VISIT = at_ms("2026-03-09T00:30", KOLKATA)
LATER = at_ms("2026-04-02T00:15", KOLKATA)
