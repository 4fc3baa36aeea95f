"""Is a parsed strength one that the drug is made in? (``backend/data/drug_strengths.csv``)

A strength outside the list is flagged, never changed: "losartan 5 mg" (OCR lost a zero of "50") must reach the
clinician as "check", with the strengths the drug comes in, and a note when ten times (or a tenth of) the value
is one of them — the classic decimal or dropped-digit error.
"""

from __future__ import annotations

import csv
import re
from functools import cache

from backend.domain.medications.lexicon import DATA_DIR
from backend.domain.models import Medication

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mg|mcg|g|IU|iu)\s*$")
_TO_MG = {"g": ("mg", 1000.0)}


@cache
def strength_table() -> dict[tuple[str, str], tuple[float, ...]]:
    """(generic, unit) -> the strengths it is made in."""
    table: dict[tuple[str, str], tuple[float, ...]] = {}
    with open(DATA_DIR / "drug_strengths.csv", newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            key = (row["generic"].strip().lower(), row["unit"].strip().lower())
            table[key] = tuple(float(v) for v in row["strengths"].split())
    return table


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_strength(generic: str, strength: str) -> str | None:
    """A flag when ``strength`` ("5 mg") is not one ``generic`` is made in; None when it is, or when unknown."""
    m = _AMOUNT.match(strength)
    if m is None:
        return None
    value, unit = float(m.group(1)), m.group(2).lower()
    if unit in _TO_MG:
        unit, factor = _TO_MG[unit]
        value *= factor
    made = strength_table().get((generic.lower(), unit))
    if not made or any(abs(value - v) < 1e-9 for v in made):
        return None
    listed = ", ".join(_fmt(v) for v in made)
    message = f"{strength.strip()} is not a strength {generic} is made in ({listed} {unit})"
    if any(abs(value * 10 - v) < 1e-9 or abs(value / 10 - v) < 1e-9 for v in made):
        message += " — possibly a tenfold error"
    return message + ": check the dose"


def strength_flags(med: Medication) -> list[str]:
    """Flags for the strengths of ``med``; a combination ("a + b", "500 mg + 1 mg") is checked part by part."""
    if not med.strength or not med.verified:
        return []
    names = [n.strip() for n in med.name.split(" + ")]
    amounts = [a.strip() for a in med.strength.split(" + ")]
    if len(names) != len(amounts):
        return [] if len(names) > 1 else [f for f in [check_strength(names[0], med.strength)] if f]
    return [f for name, amount in zip(names, amounts, strict=True) if (f := check_strength(name, amount))]


# A strength said with a name the speech engine did not know is looser evidence than one written on a label: a
# dose may be two or more tablets, or half of one, and speech swaps "fifteen" and "fifty" (any teen and its ten).
DOSE_MULTIPLES = (0.5, 1.0, 2.0, 3.0, 4.0)
_SPOKEN_UNITS = {"mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "microgram": "mcg"}
_SPOKEN_UNITS |= {"micrograms": "mcg", "g": "g", "gram": "g", "grams": "g"}


def teen_or_ten(value: float) -> float | None:
    """The number said alike: 15 for 50, 50 for 15 (13-19 and 30-90); None for any other."""
    if not float(value).is_integer():
        return None
    n = int(value)
    if 13 <= n <= 19:
        return float((n - 10) * 10)
    if 30 <= n <= 90 and n % 10 == 0:
        return float(n // 10 + 10)
    return None


def could_be_made_in(generic: str, value: float, unit: str) -> bool:
    """False only when the table knows the strengths ``generic`` is made in (in ``unit``: "mg", "milligrams",
    "mcg", "g") and no dose of whole or half tablets of them (:data:`DOSE_MULTIPLES`) is ``value`` or the number
    that sounds like it (:func:`teen_or_ten`). Unknown drugs, units and combinations could be."""
    unit = _SPOKEN_UNITS.get(unit.lower(), unit.lower())
    if unit in _TO_MG:
        unit, factor = _TO_MG[unit]
        value, alike = value * factor, None
    else:
        alike = teen_or_ten(value)
    made = strength_table().get((generic.lower(), unit))
    if not made:
        return True
    said = [value] if alike is None else [value, alike]
    return any(abs(v - k * s) < 1e-9 for v in said for k in DOSE_MULTIPLES for s in made)
