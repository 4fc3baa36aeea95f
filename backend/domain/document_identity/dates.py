"""Dates as clinics write them: 12/03/2024, 12-03-24, 2024-03-12, 12-Mar-2024, 12th March 2024, March 12, 2024.

Numeric dates are read day first unless the clinic's region writes month first (the US); a date whose day
is above 12 is read the only way it can be. OCR's usual confusions inside numbers (O for 0, I or l for 1)
are undone before reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from backend.domain.document_identity.cues import cues


@dataclass(frozen=True)
class FoundDate:
    """One date read from a line. ``ambiguous``: day and month could be swapped (both 12 or less)."""

    day: date
    start: int
    end: int
    text: str
    ambiguous: bool = False


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "i": "1", "S": "5"})
# A numeric-looking run with two separators, where OCR may have put letters for digits.
_NUMERICISH = re.compile(
    r"(?<![\w])[0-9OoDIli|S]{1,4}\s?[/\-.]\s?[0-9OoDIli|S]{1,2}\s?[/\-.]\s?[0-9OoDIli|S]{2,4}(?!\w)"
)
_DMY = re.compile(r"(?<![\d/.\-])(\d{1,2})\s?([/\-.])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?![\d/\-]|\.\d)")
_YMD = re.compile(r"(?<![\d/.\-])(\d{4})([/\-.])(\d{1,2})\2(\d{1,2})(?![\d/\-]|\.\d)")


def _month_words() -> str:
    return "|".join(sorted(cues().months, key=len, reverse=True))


def _named_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    months = _month_words()
    day_first = re.compile(
        rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s\-/.,]*({months})[a-z]*\.?[\s\-/.,']*(\d{{4}}|\d{{2}})(?!\d)",
        re.IGNORECASE,
    )
    month_first = re.compile(
        rf"(?<![a-z])({months})[a-z]*\.?[\s\-/]*(\d{{1,2}})(?:st|nd|rd|th)?,?[\s\-/']*(\d{{4}}|\d{{2}})(?!\d)",
        re.IGNORECASE,
    )
    return day_first, month_first


def _year(text: str, today: date) -> int:
    if len(text) == 4:
        return int(text)
    yy = int(text)
    # A two-digit year is this century unless that would be more than a year ahead.
    return 2000 + yy if 2000 + yy <= today.year + 1 else 1900 + yy


def _make(year: int, month: int, day: int) -> date | None:
    if year < cues().earliest_year:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _undo_ocr(line: str) -> str:
    """Letters OCR put for digits, inside runs that look like numeric dates (same length, so spans hold)."""
    return _NUMERICISH.sub(lambda m: m.group(0).translate(_OCR_DIGITS), line)


def find_dates(line: str, today: date, month_first: bool = False) -> list[FoundDate]:
    """Every date in ``line``, left to right.

    Args:
        line: one line of text.
        today: the reference for two-digit years.
        month_first: read ambiguous numeric dates month first (US style).

    Returns:
        The dates found, with their character spans in ``line``.
    """
    text = _undo_ocr(line)
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def add(value: date | None, m: re.Match[str], ambiguous: bool = False) -> None:
        if value is None or any(m.start() < e and s < m.end() for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(FoundDate(value, m.start(), m.end(), line[m.start() : m.end()], ambiguous))

    for m in _YMD.finditer(text):
        add(_make(int(m.group(1)), int(m.group(3)), int(m.group(4))), m)
    for m in _DMY.finditer(text):
        a, b, year = int(m.group(1)), int(m.group(3)), _year(m.group(4), today)
        day, month = (b, a) if month_first else (a, b)
        if month > 12 >= day:  # only one reading is a date
            day, month = month, day
        add(_make(year, month, day), m, ambiguous=a <= 12 and b <= 12 and a != b)
    day_first, month_word_first = _named_patterns()
    months = cues().months
    for m in day_first.finditer(text):
        add(_make(_year(m.group(3), today), months[m.group(2).lower()], int(m.group(1))), m)
    for m in month_word_first.finditer(text):
        add(_make(_year(m.group(3), today), months[m.group(1).lower()], int(m.group(2))), m)
    found.sort(key=lambda f: f.start)
    return found


def swapped_day(day: date) -> date | None:
    """``day`` with its day and month exchanged (None when that is no date)."""
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


def swapped(found: FoundDate) -> date | None:
    """The other reading of an ambiguous numeric date (day and month exchanged)."""
    return swapped_day(found.day) if found.ambiguous else None
