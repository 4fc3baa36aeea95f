"""Active medication list reconciled across signed notes and digitized documents (pure).

Rules:
- Only signed notes count (a draft is not yet the clinician's word); digitized documents always count.
- Drugs are grouped by their (generic) name exactly as stored, case- and accent-folded. Nothing is
  fuzzy-matched, so an unverified name is never merged into a different drug: it stays its own entry,
  marked ``verified=False``.
- ``Medication.status == "stopped"`` ends a drug; a later mention restarts it. ``"declined"`` (refused, not
  taken, to avoid) is never active either: the drug is listed among the not-taken with the reason said; a later
  mention of taking it starts it.
- A different strength from a *different* source within ``conflict_window_ms`` of the previous mention is a
  conflict (flagged for the doctor), not a dose change; further apart it is a dose change.
- Two active drugs sharing an ingredient (Dolo and Combiflam: paracetamol twice), or of one same-class group
  of ``drug_class_words.toml`` (two ARBs, two NSAIDs, two statins), are flagged on both, with both sources:
  a duplication for the doctor to check, never merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any, Literal

from backend.domain import clock_format
from backend.domain.drug_classes import class_table, classes_of, ingredients
from backend.domain.models import Medication
from backend.domain.text import fold

DAY_MS = 86_400_000
DEFAULT_CONFLICT_WINDOW_MS = 3 * DAY_MS  # a prescription is often digitized a day or two after the visit note
_NOT_TAKEN = ("stopped", "declined")  # statuses a mention gives that leave the drug out of the active list


@dataclass(frozen=True)
class MedSource:
    """One note or document and the medication lines it holds."""

    kind: Literal["note", "document"]
    timestamp: int
    signed: bool
    ref: dict[str, Any]
    medications: list[Medication]
    day: str | None = None  # a dated document's own ISO date: that day in every zone (its timestamp is 00:00 UTC)


@dataclass
class ActiveMed:
    """One drug of the reconciled list."""

    name: str
    strength: str | None
    frequency: str | None
    sources: list[dict[str, Any]]
    first_seen: int
    last_seen: int
    first_day: str = ""  # the clinic's day of first_seen (a dated document: its own date)
    last_day: str = ""
    status: Literal["active", "stopped", "declined"] = "active"
    status_reason: str = ""  # why it is declined or stopped, in the words the latest source said
    changes: list[str] = field(default_factory=list)
    conflict: bool = False
    conflict_detail: str = ""
    verified: bool = False
    verbatim: list[str] = field(default_factory=list)
    since: int = 0  # start of the current course: first mention, or the last restart
    since_word: str = ""  # "started" (the record says so), "first recorded" or "restarted"
    since_ref: dict[str, Any] | None = None  # the source of that mention
    last_source: str = ""  # "note 2024-03-05": where the latest mention is
    same_class: list[str] = field(default_factory=list)  # duplication warnings naming both drugs and sources


@dataclass(frozen=True)
class _Mention:
    source: MedSource
    med: Medication


def day_of(ms: int, tz: tzinfo = UTC) -> str:
    """ISO date of an epoch-ms timestamp in ``tz`` (the clinic's zone wherever a person reads it; UTC by default)."""
    return clock_format.day(ms, tz).isoformat()


_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mcg|µg|ug|mg|g|ml|iu|units?|%)\b")
_TO_BASE = {
    "g": ("mg", 1000.0),
    "mcg": ("mg", 0.001),
    "µg": ("mg", 0.001),
    "ug": ("mg", 0.001),
    "unit": ("iu", 1.0),
    "units": ("iu", 1.0),
}


def strength_key(strength: str | None) -> str | None:
    """Comparable form of a strength: ``"0.5 g"``, ``"500mg"`` and ``"500 MG"`` are the same dose."""
    if not strength or not strength.strip():
        return None
    text = fold(strength)
    parts = []
    for number, unit in _STRENGTH.findall(text):
        base, scale = _TO_BASE.get(unit, (unit, 1.0))
        parts.append(f"{float(number) * scale:g}{base}")
    return "+".join(parts) if parts else re.sub(r"\s+", "", text)


def _freq_key(frequency: str | None) -> str | None:
    return re.sub(r"\s+", " ", fold(frequency)).strip() if frequency and frequency.strip() else None


def _counts(source: MedSource) -> bool:
    return source.kind == "document" or source.signed


def source_day(source: MedSource, tz: tzinfo) -> str:
    """The day a person reads for a source: a dated document's own date, else the clinic's day of its time."""
    return source.day or day_of(source.timestamp, tz)


def _ref_label(source: MedSource, tz: tzinfo) -> str:
    return f"{source.kind} {source_day(source, tz)}"


def reconcile(
    sources: Iterable[MedSource], conflict_window_ms: int = DEFAULT_CONFLICT_WINDOW_MS, tz: tzinfo = UTC
) -> list[ActiveMed]:
    """Reconcile medication mentions into one list: active drugs first, then the not-taken (stopped, declined), each by name.

    Args:
        sources: notes and documents in any order; drafts are ignored.
        conflict_window_ms: mentions closer than this from different sources are "the same time".
        tz: the clinic's zone: the days written into ``changes``, ``last_source`` and the warnings are its days
            (a visit at 00:30 in Kolkata is that day, not the UTC day before).

    Returns:
        One ActiveMed per drug name with its sources, first/last seen, changes and conflict flag.
    """
    by_drug: dict[str, list[_Mention]] = {}
    for source in sorted((s for s in sources if _counts(s)), key=lambda s: s.timestamp):
        for med in source.medications:
            key = fold(med.name).strip()
            if key:
                by_drug.setdefault(key, []).append(_Mention(source, med))
    meds = [_one_drug(mentions, conflict_window_ms, tz) for mentions in by_drug.values()]
    meds.sort(key=lambda m: (m.status != "active", fold(m.name)))
    _flag_same_class(meds)
    return meds


def _one_drug(mentions: list[_Mention], window: int, tz: tzinfo) -> ActiveMed:
    first = mentions[0]
    out = ActiveMed(
        name=first.med.name,
        strength=None,
        frequency=None,
        sources=[],
        first_seen=first.source.timestamp,
        last_seen=first.source.timestamp,
        verified=any(m.med.verified for m in mentions),
        since=first.source.timestamp,
        since_ref=first.source.ref,
        first_day=source_day(first.source, tz),
    )
    prev: _Mention | None = None  # the last mention that gave a strength
    for m in mentions:
        when = source_day(m.source, tz)
        if m.source.ref not in out.sources:
            out.sources.append(m.source.ref)
        if m.med.verbatim and m.med.verbatim not in out.verbatim:
            out.verbatim.append(m.med.verbatim)
        out.last_seen, out.last_day = m.source.timestamp, when
        out.last_source = _ref_label(m.source, tz)
        said = (m.med.status or "").lower()
        if said in _NOT_TAKEN:
            now: Literal["stopped", "declined"] = "declined" if said == "declined" else "stopped"
            reason = (m.med.status_reason or "").strip()  # why, in the words said (declined, tried and failed)
            if out.status != now:
                out.changes.append(f"{now} on {when}" + (f" ({reason})" if reason else ""))
            out.status, out.status_reason = now, reason
            continue
        if m is first:
            verb = "started" if (m.med.status or "").lower() == "started" else "first recorded"
            out.changes.append(f"{verb} on {when}")
            out.since_word = verb
        elif out.status != "active":
            verb = "restarted" if out.status == "stopped" else "started"  # a declined drug was never taken
            out.changes.append(f"{verb} on {when}")
            out.status, out.status_reason = "active", ""
            out.since, out.since_word, out.since_ref = m.source.timestamp, verb, m.source.ref
        _apply_strength(out, prev, m, window, when, tz)
        if m.med.strength and strength_key(m.med.strength):
            prev = m
        new_freq = _freq_key(m.med.frequency)
        if new_freq and out.frequency and new_freq != _freq_key(out.frequency):
            out.changes.append(f"frequency changed {out.frequency} -> {m.med.frequency} on {when}")
        if new_freq:
            out.frequency = m.med.frequency
    _current_conflict(out, mentions, window, tz)
    return out


def _apply_strength(out: ActiveMed, prev: _Mention | None, m: _Mention, window: int, when: str, tz: tzinfo) -> None:
    new = strength_key(m.med.strength)
    if new is None:
        return
    if prev is not None and out.strength is not None and new != strength_key(out.strength):
        same_time = m.source.timestamp - prev.source.timestamp <= window and m.source.ref != prev.source.ref
        if same_time:
            was = f"{out.strength} ({_ref_label(prev.source, tz)})"
            now = f"{m.med.strength} ({_ref_label(m.source, tz)})"
            out.changes.append(f"conflicting doses {was} vs {now}")
        elif prev.source.ref != m.source.ref:
            out.changes.append(f"dose changed {out.strength} -> {m.med.strength} on {when}")
    out.strength = m.med.strength


def _current_conflict(out: ActiveMed, mentions: list[_Mention], window: int, tz: tzinfo) -> None:
    """Flag the drug when the sources around its latest mention disagree on the dose."""
    recent = [
        m
        for m in mentions
        if out.last_seen - m.source.timestamp <= window
        and strength_key(m.med.strength)
        and (m.med.status or "").lower() not in _NOT_TAKEN
    ]
    doses: dict[str, list[str]] = {}
    for m in recent:
        doses.setdefault(strength_key(m.med.strength) or "", []).append(
            f"{m.med.strength} ({_ref_label(m.source, tz)})"
        )
    if len(doses) > 1 and len({str(m.source.ref) for m in recent}) > 1:
        out.conflict = True
        out.conflict_detail = f"{out.name}: different doses from different sources: " + " vs ".join(
            v[0] for v in doses.values()
        )


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _flag_same_class(meds: list[ActiveMed]) -> None:
    """Warn on each active drug that shares an ingredient or a same-class group with another active drug.

    Groups are tried narrow to broad (one ingredient, then the file's order: ARB before ACE-or-ARB); a set of
    drugs already warned about is not warned about again by a broader group.
    """
    active = [m for m in meds if m.status == "active"]
    groups: list[tuple[str, list[ActiveMed]]] = []
    by_ingredient: dict[str, list[ActiveMed]] = {}
    for m in active:
        for part in dict.fromkeys(name for name, _ in ingredients(m.name)):
            by_ingredient.setdefault(part, []).append(m)
    groups += [(f"the same medicine, {name}", ms) for name, ms in by_ingredient.items()]
    classes = {id(m): classes_of(m.name) for m in active}
    for c in class_table().values():
        if c.same_class:
            groups.append((f"the same class, {c.label}", [m for m in active if c.id in classes[id(m)]]))
    warned: list[set[int]] = []
    for what, members in groups:
        ids = {id(m) for m in members}
        if len(members) < 2 or any(ids <= w for w in warned):
            continue
        warned.append(ids)
        names = _join([f"{m.name} ({m.last_source})" for m in members])
        every = "both" if len(members) == 2 else "all"
        warning = f"{names}: {what}, {every} active — check whether one replaced the other."
        for m in members:
            m.same_class.append(warning)
