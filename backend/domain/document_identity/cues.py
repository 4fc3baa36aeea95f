"""Cue words of document headers (labels, titles, sex words, months), read once from ``document_identity.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "document_identity.toml"
FIELDS = ("name", "age_sex", "age", "sex", "dob", "phone", "id", "date", "follow_up")


def _label_regex(label: str) -> str:
    """A label as a regex: a space also matches a dot or hyphen or nothing, a dot is optional."""
    out = []
    for ch in label:
        if ch == " ":
            out.append(r"[\s.\-]*")
        elif ch == ".":
            out.append(r"\.?\s*")
        elif ch == "/":
            out.append(r"\s*/\s*")
        elif ch == "'":
            out.append(r"['’]?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def words_regex(words: list[str] | tuple[str, ...]) -> str:
    """Alternation of whole words, longest first so "patient name" wins over "patient"."""
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    return r"(?<![^\W_])(?:" + "|".join(_label_regex(w) for w in ordered) + r")(?![^\W\d_])"


@dataclass(frozen=True)
class Cues:
    labels: dict[str, re.Pattern[str]]  # field -> regex of its labels
    plain_name: frozenset[str]  # name labels clear without a separator
    titles: frozenset[str]
    suffixes: frozenset[str]
    aliases: dict[str, str]  # spelling -> canonical
    sexes: dict[str, str]  # word -> female | male | other
    age_units: dict[str, str]  # word -> years | months | days
    month_first_regions: frozenset[str]
    earliest_year: int
    header_lines: int
    months: dict[str, int]  # month word -> 1..12
    relations: re.Pattern[str]
    section_start: re.Pattern[str]


@cache
def cues() -> Cues:
    """The cue tables (cached: read once per process)."""
    with open(DATA_FILE, "rb") as f:
        raw = tomllib.load(f)
    labels = {field: re.compile(words_regex(raw["labels"][field]), re.IGNORECASE) for field in FIELDS}
    aliases = {spelling: canonical for canonical, spellings in raw["name_aliases"].items() for spelling in spellings}
    sexes = {word: sex for sex, words in raw["sex"].items() for word in words}
    units = {word: unit for unit, words in raw["ages"].items() for word in words}
    months = {word: int(number) for number, words in raw["months"].items() for word in words}
    return Cues(
        labels=labels,
        plain_name=frozenset(raw["labels"]["name_plain"]),
        titles=frozenset(raw["titles"]["words"]),
        suffixes=frozenset(raw["titles"]["suffixes"]),
        aliases=aliases,
        sexes=sexes,
        age_units=units,
        month_first_regions=frozenset(r.upper() for r in raw["dates"]["month_first_regions"]),
        earliest_year=int(raw["dates"]["earliest_year"]),
        header_lines=int(raw["dates"]["header_lines"]),
        months=months,
        relations=re.compile(words_regex(raw["relations"]["words"]), re.IGNORECASE),
        section_start=re.compile(r"^\s*" + words_regex(raw["sections"]["starts"]), re.IGNORECASE),
    )
