"""Vital signs said in a consultation, with plausibility against the ranges of ``vitals.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.domain.drafting.rules import vitals as vital_rules

_UNIT_WORDS = {
    "f": "F", "fahrenheit": "F", "c": "C", "celsius": "C",
    "pounds": "lb", "pound": "lb", "lbs": "lb", "lb": "lb", "kilograms": "kg", "kilos": "kg", "kg": "kg",
}  # fmt: skip


@dataclass(frozen=True)
class Vital:
    """One measured vital sign; ``plausible`` is False (with ``reason``) when outside the physiological range."""

    kind: str  # bp | hr | temperature | spo2 | rr | weight | glucose
    value: str  # "120/80", "98.6", "88"
    unit: str
    plausible: bool
    reason: str = ""
    start: int = 0
    end: int = 0


def _check(kind: str, spec: dict[str, Any], number: float, unit: str, second: float | None = None) -> str:
    """The reason a value is implausible, or "" when it is within range."""
    low, high = spec["min"], spec["max"]
    if kind == "temperature" and unit == "F":
        low, high = spec["min_f"], spec["max_f"]
    if kind == "weight" and unit == "lb":
        low, high = spec["min_lb"], spec["max_lb"]
    if not low <= number <= high:
        return f"{kind} {number:g} {unit} is outside the plausible range {low}-{high} {unit}"
    if second is not None:
        if not spec["min2"] <= second <= spec["max2"]:
            return f"diastolic {second:g} is outside the plausible range {spec['min2']}-{spec['max2']} {unit}"
        if second >= number:
            return f"diastolic {second:g} is not below systolic {number:g}"
    return ""


def find_vitals(text: str) -> list[Vital]:
    """Vital signs in a normalised sentence (numbers already digits: "120 over 80", "98 percent").

    Args:
        text: lower-cased sentence from ``text.normalise``.

    Returns:
        Each vital found once (the first pattern that matches a span wins), in order of appearance.
    """
    found: list[Vital] = []
    taken: list[tuple[int, int]] = []
    for kind, spec in vital_rules().items():
        for regex in spec["compiled"]:
            for m in regex.finditer(text):
                span = m.span("value")
                if any(a < span[1] and span[0] < b for a, b in taken):
                    continue
                groups = m.groupdict()
                number = float(groups["value"])
                unit = _UNIT_WORDS.get((groups.get("unit") or "").strip(), spec["unit"])
                if kind == "temperature" and not groups.get("unit"):
                    unit = "C" if number < spec["celsius_below"] else "F"
                if kind == "weight" and not groups.get("unit"):
                    unit = "kg" if "kilo" in text else "lb"
                second = float(groups["value2"]) if groups.get("value2") else None
                value = groups["value"] if second is None else f"{groups['value']}/{groups['value2']}"
                reason = _check(kind, spec, number, unit, second)
                end = m.end("value2") if second is not None else span[1]
                taken.append((span[0], end))
                found.append(Vital(kind, value, unit, not reason, reason, span[0], end))
    return sorted(found, key=lambda v: v.start)
