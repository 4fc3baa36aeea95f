"""Rule tables of the medication parser, read once from ``backend/data``.

Brand -> generic table, US/UK -> INN names, a stoplist, cue words of forms, routes,
instructions, status and durations, and frequency rules all live in data files so
clinicians can review and extend them without touching code.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def brand_key(text: str) -> str:
    """Key of a brand spelling: lower case, letters and digits only ("Pan-D" == "pan d" == "PAND")."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Brand:
    """One row of ``brands.csv``."""

    brand: str
    generics: tuple[str, ...]
    bare_unit: str | None
    ambiguous: bool  # also an English word: only trusted in prescription lines or when capitalised


@dataclass(frozen=True)
class FrequencyRule:
    """One row of ``frequencies.csv``."""

    kind: str  # regex | hours | slots
    pattern: str
    canonical: str


@cache
def brands() -> dict[str, Brand]:
    """Brand table keyed by :func:`brand_key`."""
    table: dict[str, Brand] = {}
    with open(DATA_DIR / "brands.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            generics = tuple(g.strip().lower() for g in row["generics"].split("+") if g.strip())
            table[brand_key(row["brand"])] = Brand(
                brand=row["brand"].strip(),
                generics=generics,
                bare_unit=(row.get("bare_unit") or "").strip() or None,
                ambiguous=(row.get("ambiguous") or "0").strip() == "1",
            )
    return table


@cache
def inn_names() -> dict[str, tuple[str, ...]]:
    """Dictionary canonical / synonym (lower case) -> INN component names."""
    table: dict[str, tuple[str, ...]] = {}
    with open(DATA_DIR / "inn_names.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            table[row["name"].strip().lower()] = tuple(g.strip().lower() for g in row["inn"].split("+"))
    return table


@cache
def stoplist() -> frozenset[str]:
    """Words never taken as a drug name on their own."""
    words: set[str] = set()
    for line in (DATA_DIR / "med_stoplist.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.lower())
    return frozenset(words)


@cache
def vocab() -> dict[str, dict[str, object]]:
    """The tables of ``med_vocab.toml``."""
    with open(DATA_DIR / "med_vocab.toml", "rb") as f:
        return tomllib.load(f)


def bounded(alternatives: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex of ``alternatives`` that must not touch letters or digits on either side."""
    joined = "|".join(f"(?:{a})" for a in sorted(alternatives, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{joined})(?![A-Za-z0-9])", re.IGNORECASE)


@cache
def cue_patterns(table: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(canonical value, compiled regex) pairs of one ``med_vocab.toml`` table (forms, routes, ...)."""
    entries = vocab()[table]
    return tuple((key, bounded(list(alts))) for key, alts in entries.items() if isinstance(alts, list))


@cache
def frequency_rules() -> tuple[FrequencyRule, ...]:
    """Rows of ``frequencies.csv`` (comment lines skipped)."""
    with open(DATA_DIR / "frequencies.csv", newline="", encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return tuple(
        FrequencyRule(kind=row["kind"].strip(), pattern=row["pattern"].strip(), canonical=row["canonical"].strip())
        for row in csv.DictReader(lines)
    )
