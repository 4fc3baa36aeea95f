"""Field extractors of a medication line: strength, form, route, frequency, duration, instructions, status.

Each extractor takes a text and returns the canonical value plus the span it used, so the
caller can blank that span out (``mask``) before the next extractor runs ("5/7" is a
duration, not a strength; "1-0-1" is a frequency, not a number).
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from backend.domain.medications.lexicon import bounded, cue_patterns, frequency_rules, vocab

AS_NEEDED = "as needed"


class Found(NamedTuple):
    value: str
    start: int
    end: int


def mask(text: str, found: Found | None) -> str:
    """``text`` with the span of ``found`` replaced by spaces (offsets unchanged)."""
    if found is None:
        return text
    return text[: found.start] + " " * (found.end - found.start) + text[found.end :]


_NUM = r"\d{1,3},\d{3}(?!\d)|\d+(?:[.,]\d+)?"
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "a": 1, "an": 1,
}  # fmt: skip
_UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "µg": "mcg", "ug": "mcg",
    "microgram": "mcg", "micrograms": "mcg", "g": "g", "gm": "g", "gms": "g", "gram": "g", "grams": "g",
    "ml": "ml", "millilitre": "ml", "milliliter": "ml", "millilitres": "ml", "milliliters": "ml",
    "iu": "IU", "i.u.": "IU", "meq": "mEq", "mmol": "mmol", "%": "%",
}  # fmt: skip
_DOSE_UNITS = {"puff": "puffs", "puffs": "puffs", "unit": "units", "units": "units", "u": "units",
               "drop": "drops", "drops": "drops", "ml": "ml", "spray": "sprays", "sprays": "sprays"}  # fmt: skip
_UNIT_RE = r"(?:milligrams?|micrograms?|millilit(?:re|er)s?|grams?|mcg|µg|ug|mg|gms?|g|ml|i\.u\.|iu|meq|mmol|%)"
_COMBO = re.compile(
    rf"(?<![\d./])({_NUM})\s*({_UNIT_RE})?\s*/\s*({_NUM})\s*({_UNIT_RE})?(?![A-Za-z0-9/])", re.IGNORECASE
)
_SINGLE = re.compile(
    rf"(?<![\d./])({_NUM})\s*({_UNIT_RE})(?:\s*/\s*(ml|kg|dose|hr|h|actuation))?(?![A-Za-z0-9])", re.IGNORECASE
)
_DOSE = re.compile(r"(?<![\d./])(\d+(?:\.\d+)?)\s*(puffs?|units?|u|drops?|ml|sprays?)(?![A-Za-z0-9])", re.IGNORECASE)
_SLOT = r"(?:½|1/2|0?\.5|\d)"
_SLOTS = re.compile(rf"(?<![\d/.])({_SLOT}(?:\s*[-–+]\s*{_SLOT}){{2,3}})(?![\d/.])")
_FRACTION = re.compile(r"(?:(?:x|×|\*|for)\s*)?(?<![\d/.])(\d{1,2})\s*/\s*(7|52|12)(?![\d/.])", re.IGNORECASE)


def _unit(raw: str | None) -> str | None:
    return _UNITS.get(raw.lower()) if raw else None


def _num(raw: str) -> str:
    if re.fullmatch(r"\d{1,3},\d{3}", raw):
        return raw.replace(",", "")  # thousands separator: "60,000 IU"
    return raw.replace(",", ".")


def strength(text: str) -> Found | None:
    """Strength such as "500 mg", "0.5 g", "875/125", "250 mg/5 ml", "1%"; else a dose amount ("2 puffs")."""
    for m in _COMBO.finditer(text):
        if m.group(2) is None and m.group(4) is None and _FRACTION.fullmatch(m.group(0).strip()):
            continue
        left = _num(m.group(1)) + (f" {_unit(m.group(2))}" if m.group(2) else "")
        right = _num(m.group(3)) + (f" {_unit(m.group(4))}" if m.group(4) else "")
        return Found(f"{left}/{right}".replace(" %", "%"), m.start(), m.end())
    single = _SINGLE.search(text)
    if single:
        unit = _unit(single.group(2)) or single.group(2)
        value = f"{_num(single.group(1))}%" if unit == "%" else f"{_num(single.group(1))} {unit}"
        if single.group(3):
            value += f"/{single.group(3).lower()}"
        return Found(value, single.start(), single.end())
    dose = _DOSE.search(text)
    if dose:
        unit = _DOSE_UNITS[dose.group(2).lower()]
        if float(dose.group(1)) == 1 and unit != "ml":
            unit = unit[:-1]  # "1 drop", "1 puff"
        return Found(f"{dose.group(1)} {unit}", dose.start(), dose.end())
    return None


def is_dose_amount(value: str) -> bool:
    """True for an amount per dose ("2 puffs", "1 drop") rather than a strength of the product."""
    return re.fullmatch(r"[\d.]+ (?:puffs?|drops?|sprays?)", value) is not None


def _first_cue(table: str, text: str) -> Found | None:
    best: Found | None = None
    for value, pattern in cue_patterns(table):
        m = pattern.search(text)
        if m and (best is None or m.start() < best.start):
            best = Found(value, m.start(), m.end())
    return best


def form(text: str) -> Found | None:
    """Dosage form (tablet, capsule, syrup, injection, drops, ointment, cream, inhaler, gel, ...)."""
    return _first_cue("forms", text)


def route(text: str) -> Found | None:
    """Route when it is stated: oral, IV, IM, SC, topical, inhaled, nasal, ophthalmic, otic, sublingual, PR."""
    return _first_cue("routes", text)


def status(text: str, anchor: int | None = None) -> Found | None:
    """Status cue (started / continued / stopped); the cue closest before ``anchor`` wins, else the first after."""
    hits: list[Found] = []
    for value, pattern in cue_patterns("status"):
        hits.extend(Found(value, m.start(), m.end()) for m in pattern.finditer(text))
    if not hits:
        return None
    if anchor is not None:
        before = [h for h in hits if h.end <= anchor]
        if before:
            return max(before, key=lambda h: h.end)
    return min(hits, key=lambda h: h.start)


def instructions(text: str) -> Found | None:
    """Food-timing instructions ("before food", "after food", "with food", "on an empty stomach"), joined by "; "."""
    hits: list[Found] = []
    for value, pattern in cue_patterns("instructions"):
        m = pattern.search(text)
        if m:
            hits.append(Found(value, m.start(), m.end()))
    if not hits:
        return None
    hits.sort(key=lambda h: h.start)
    return Found("; ".join(h.value for h in hits), hits[0].start, hits[-1].end)


@cache
def _frequency_patterns() -> tuple[tuple[str, str, re.Pattern[str] | str], ...]:
    out: list[tuple[str, str, re.Pattern[str] | str]] = []
    for rule in frequency_rules():
        if rule.kind == "slots":
            out.append((rule.kind, rule.canonical, rule.pattern))
        else:
            out.append((rule.kind, rule.canonical, bounded([rule.pattern])))
    return tuple(out)


def _slot_value(part: str) -> float:
    part = part.strip()
    return 0.5 if part in {"½", "1/2", ".5", "0.5"} else float(part)


def frequency(text: str) -> Found | None:
    """Frequency as canonical text ("twice daily", "every 8 hours", "as needed", ...)."""
    found = _slot_frequency(text) or _regular_frequency(text)
    if found is None:
        return None
    # "q6h PRN", "1-1-1 SOS", "PRN q6h": keep both the schedule and the as-needed qualifier
    extra = _regular_frequency(mask(text, found))
    if extra is None or (found.value == AS_NEEDED) == (extra.value == AS_NEEDED):
        return found
    schedule = extra.value if found.value == AS_NEEDED else found.value
    if schedule.endswith(AS_NEEDED):
        return found
    return Found(f"{schedule} {AS_NEEDED}", min(found.start, extra.start), max(found.end, extra.end))


def _slot_frequency(text: str) -> Found | None:
    m = _SLOTS.search(text)
    if m:
        parts = re.split(r"\s*[-–+]\s*", m.group(1))
        key = "".join("1" if _slot_value(p) > 0 else "0" for p in parts)
        for kind, canonical, pattern in _frequency_patterns():
            if kind == "slots" and pattern == key:
                return Found(canonical, m.start(), m.end())
    return None


def _clock(hit: re.Match[str]) -> str:
    """ "at 6 pm", "at 9:30 p.m." -> "6 pm", "9:30 pm" (the groups are the time and am/pm)."""
    time, half = (g for g in hit.groups() if g)
    return f"{time} {half.replace('.', '').lower()}"


def _regular_frequency(text: str) -> Found | None:
    rules = _frequency_patterns()
    best: Found | None = None
    for kind, canonical, pattern in rules:
        if isinstance(pattern, str):
            continue
        for hit in pattern.finditer(text):
            value = canonical
            if kind in ("hours", "minutes"):
                count = next(g for g in hit.groups() if g).lower()
                n = int(count) if count.isdigit() else _WORD_NUMBERS[count]
                value = canonical.replace("{n}", str(n))
            elif kind == "clock":
                value = canonical.replace("{t}", _clock(hit))
            length = hit.end() - hit.start()
            if best is None or length > best.end - best.start:
                best = Found(value, hit.start(), hit.end())
    return best


@cache
def _duration_re() -> tuple[re.Pattern[str], dict[str, str]]:
    table = vocab()["durations"]
    unit_of: dict[str, str] = {}
    alternatives: list[str] = []
    for canonical, alts in table.items():
        for alt in list(alts):  # type: ignore[call-overload]
            alternatives.append(alt)
            unit_of[alt] = canonical
    words = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
    units = "|".join(f"(?:{a})" for a in sorted(alternatives, key=len, reverse=True))
    pattern = re.compile(
        rf"(?<![A-Za-z0-9.])(?:(?:x|×|\*|for|since|past|over)\s*)?(?<![0-9.])(\d+|{words})\s*-?\s*({units})(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    return pattern, unit_of


def _duration_unit(raw: str) -> str:
    _, unit_of = _duration_re()
    for alt, canonical in unit_of.items():
        if re.fullmatch(alt, raw, re.IGNORECASE):
            return canonical
    return raw.lower()


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def duration(text: str) -> Found | None:
    """Duration such as "5 days", "2 weeks", "1 month" (from "x 5 days", "for 2 weeks", "5/7", "1 month")."""
    m = _FRACTION.search(text)
    if m:
        unit = str(vocab()["fraction_units"][m.group(2)])
        return Found(_plural(int(m.group(1)), unit), m.start(), m.end())
    pattern, _ = _duration_re()
    for m in pattern.finditer(text):
        raw_n = m.group(1).lower()
        if raw_n in {"a", "an"} and not re.match(r"(?:x|×|\*|for)\s", m.group(0), re.IGNORECASE):
            continue  # "a day" is a frequency ("twice a day"), "for a week" is a duration
        if re.search(r"(?:after|in|every|within)\s*$", text[: m.start()], re.IGNORECASE):
            continue  # "repeat after 1 week", "every 2 weeks": not how long to take it
        n = int(raw_n) if raw_n.isdigit() else _WORD_NUMBERS[raw_n]
        return Found(_plural(n, _duration_unit(m.group(2))), m.start(), m.end())
    return None
