"""Numbers that OCR misread as letters: "5O mg" (letter O for zero), "l0mg", "S00 mg".

A strength is a number followed by a unit; inside such a number the letters O/o, l/I/|, S and B can only be the
digits 0, 1, 5 and 8 that they resemble. They are read as digits in that context only (never "OD", "SOS" or a
drug name), and every reading is reported so the clinician sees what was read and what it was taken to be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AS_DIGIT = {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5", "s": "5", "B": "8"}
_UNIT = r"(?:mg|mcg|µg|ug|ml|gm?|iu|%)"
# A run of digits and look-alike letters (at least one real digit, one look-alike, one digit or look-alike at the
# start) directly followed by a unit, glued or after one space.
_NUMBER = re.compile(
    rf"(?<![A-Za-z0-9.])([0-9OolI|SsB][0-9OolI|SsB.]*)(\s?)({_UNIT})(?![A-Za-z])",
    re.IGNORECASE,
)
_LOOKALIKE = re.compile(r"[OolI|SsB]")
# A bare number after a name ("Dolo 65O"): it must start with a real digit and stand alone, and only O/o/I/l count
# (a bare "5s" or "B12" is not a misread number).
_BARE = re.compile(r"(?<=[A-Za-z] )([0-9][0-9OolI.]*[OolI][0-9OolI.]*)(?![A-Za-z0-9.%/])")


@dataclass(frozen=True)
class Reading:
    """``read`` (as OCR gave it, e.g. "5O mg") was taken as ``value`` ("50 mg")."""

    read: str
    value: str

    def flag(self) -> str:
        """The message for the clinician."""
        return f"strength read as “{self.value}” from “{self.read}” (OCR letters taken as digits): check the original"


def read_numbers(text: str) -> tuple[str, list[Reading]]:
    """``text`` with look-alike letters inside strengths turned into digits, and each reading made.

    The result has the same length as ``text`` (one character for one), so spans found in it apply to ``text``.
    """
    readings: list[Reading] = []

    def fix(m: re.Match[str]) -> str:
        number = m.group(1)
        if not any(c.isdigit() for c in number) or not _LOOKALIKE.search(number) or number.endswith("."):
            return m.group(0)
        digits = "".join(_AS_DIGIT.get(c, c) for c in number)
        if not re.fullmatch(r"\d+(?:\.\d+)?", digits):
            return m.group(0)
        readings.append(Reading(m.group(0), f"{digits}{m.group(2)}{m.group(3)}"))
        return f"{digits}{m.group(2)}{m.group(3)}"

    def fix_bare(m: re.Match[str]) -> str:
        digits = "".join(_AS_DIGIT.get(c, c) for c in m.group(1))
        if not re.fullmatch(r"\d+(?:\.\d+)?", digits):
            return m.group(0)
        readings.append(Reading(m.group(0), digits))
        return digits

    return _BARE.sub(fix_bare, _NUMBER.sub(fix, text)), readings
