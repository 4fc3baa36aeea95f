"""Medications said in the consultation, via the shared medication parser, with a started/continued/stopped/declined
status.

The drafter never names a drug itself: every medication comes from ``backend.domain.medications`` and keeps the
segment ids it was heard in; a name that parser could not verify stays ``verified=False`` for the clinician.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from backend.domain.drafting.compose import _answer_polarity
from backend.domain.drafting.drug_context import (
    FLAGS,
    TRIED,
    DrugUse,
    drug_context,
    named_as_example,
    taken_in_the_past,
    tried_without_help,
)
from backend.domain.drafting.rules import phrase_regex, sections
from backend.domain.drafting.units import Unit
from backend.domain.medications.fields import frequency
from backend.domain.medications.strengths import strength_flags
from backend.domain.models import Evidence, Medication

# Status cues count only this close to the mention (characters), so "stop the lisinopril, start metformin"
# gives each drug its own status.
_WINDOW = 40
REASONS = frozenset(FLAGS.values())
_FREQUENCY_BEFORE = 25  # characters before a name a frequency may be said in ("twice a day gabapentin")


@cache
def _extractor() -> Callable[[str], list[Any]] | None:
    """``extract_mentions`` of the shared parser, or None while it is not installed."""
    try:
        from backend.domain.medications import extract_mentions
    except ImportError:
        return None
    return extract_mentions  # type: ignore[no-any-return]


@cache
def _status_regexes() -> list[tuple[str, re.Pattern[str]]]:
    table = sections()["medication_status"]
    return [(status, phrase_regex(table[status])) for status in ("stopped", "started", "continued")]


def _status(text: str, start: int, end: int) -> str | None:
    """Nearest status cue around a mention: the closest one wins, a stop cue before a start cue on ties."""
    best: tuple[int, int, str] | None = None
    for rank, (status, regex) in enumerate(_status_regexes()):
        for m in regex.finditer(text):
            if m.end() <= start:
                distance = start - m.end()
            elif m.start() >= end:
                distance = m.start() - end
            else:
                continue
            if distance <= _WINDOW and (best is None or (distance, rank) < best[:2]):
                best = (distance, rank, status)
    return best[2] if best else None


def _reason(use: DrugUse) -> str | None:
    """Why a drug is declined, as said: the words of the consultation ('"i do not want the statin"'), quoted.

    Short on purpose: the compact note styles drop a medication line over their word budget."""
    return f'"{use.said}"' if use.said else use.flag


def _answer(units: list[Unit], i: int) -> str | None:
    """ "yes"/"no" when the patient answers question ``units[i]`` at once, else None."""
    nxt = units[i + 1] if i + 1 < len(units) else None
    if nxt is None or nxt.speaker != "patient" or units[i].speaker == "patient":
        return None
    return _answer_polarity(nxt)


def _next_said(units: list[Unit], i: int) -> str:
    """The next sentence when it goes on the same turn's thought: the same speaker, or the patient answering."""
    nxt = units[i + 1] if i + 1 < len(units) else None
    if nxt is None or (nxt.speaker != units[i].speaker and nxt.speaker != "patient"):
        return ""
    return nxt.norm


def _drop_borrowed_fields(med: Medication, after: str, before: str = "") -> None:
    """Forget a strength whose number is not said after the drug's name (it belongs to another drug); take the
    frequency said after the name ("ibuprofen every 8 hours along with tylenol every 6 hours": tylenol's is 6),
    or just before it ("twice a day gabapentin"), and none when neither says one ("ice it 3 to 4 times a day for
    20 minutes ... and the lisinopril" gives lisinopril none)."""
    if med.strength:
        number = re.match(r"\s*([\d.]+)", med.strength)
        if number and not re.search(rf"(?<![\d.]){re.escape(number.group(1))}(?![\d])", after):
            med.strength = None
        elif number and re.match(rf"\s*\S*?{re.escape(number.group(1))}\s*percent\b", after):
            med.strength = f"{number.group(1)}%"  # "0.1 percent" is a cream's strength, not a guessed 0.1 mg
    if med.frequency:
        found = frequency(after) or frequency(before[-_FREQUENCY_BEFORE:])
        med.frequency = found.value if found else None


def find_medications(units: list[Unit], extract: Callable[[str], list[Any]] | None = None) -> list[Medication]:
    """Medications the patient takes, starts or stops, merged by name; the last stated status wins.

    A drug that is only named is not the patient's: an allergy ("allergic to penicillin"), a test result ("your
    b12 level"), a possibility ("we may start metformin"), a question answered "no". A drug the patient is not
    taking, does not want or is told not to take is kept as declined, with why in ``status_reason`` (see
    ``drug_context``).

    Args:
        units: sentences of the consultation.
        extract: ``extract_mentions(text) -> list[MedMention]`` (defaults to the shared parser; None while absent).

    Returns:
        One ``Medication`` per drug with ``evidence.segment_ids`` of every sentence that named it.
    """
    extract = extract or _extractor()
    if extract is None:
        return []
    merged: dict[str, Medication] = {}
    for i, unit in enumerate(units):
        answer = _answer(units, i) if unit.question else None
        if answer == "no":
            continue  # "are you taking any aspirin?" "no." names a drug the patient does not take
        # The normalised sentence has digits for spoken numbers ("forty milligrams" -> "40 milligrams").
        mentions = extract(unit.norm)
        for n, mention in enumerate(mentions):
            med: Medication = mention.medication.model_copy(deep=True)
            key = med.name.lower()
            left = mentions[n - 1].end if n else 0
            right = mentions[n + 1].start if n + 1 < len(mentions) else len(unit.norm)
            use = drug_context(unit.norm, mention.start, mention.end, left, right)
            if use.skip or (unit.question and answer != "yes" and named_as_example(unit.norm, mention.start)):
                continue  # "do you take any nonsteroidals like advil?" names an example, not the patient's drug
            status = use.status or _status(unit.norm, mention.start, mention.end) or med.status
            if status is None and taken_in_the_past(unit.norm, left, mention.start, mention.end, right):
                status = "stopped"  # "i was on lisinopril before": in the note as said, not as taken now
            tried = None if status else tried_without_help(unit.norm, mention.start, mention.end, _next_said(units, i))
            if tried is not None:
                status = "stopped"  # "i tried tylenol, it did not help": taken for the complaint, not taken now
            if unit.question and status == "continued" and answer != "yes":
                status = None  # "are you taking X?" is not yet an answer
            med.flags = [f for f in med.flags if f not in REASONS]
            _drop_borrowed_fields(med, unit.norm[mention.end : right], unit.norm[left : mention.start])
            if key not in merged:
                merged[key] = med
                med.status = None
                med.evidence = Evidence(segment_ids=[], quote=unit.raw)
            current = merged[key]
            for field in ("strength", "form", "route", "frequency", "duration", "instructions"):
                if getattr(current, field) is None and getattr(med, field) is not None:
                    setattr(current, field, getattr(med, field))
            if status is not None:
                current.status = status
                # the reason of the last stated status: "not taking it" is gone once the drug is started again
                current.status_reason = _reason(use) if status == "declined" else None
                if tried is not None:
                    current.status_reason = f'{TRIED}: "{tried}"'
            for flag in med.flags:
                if flag not in current.flags:
                    current.flags.append(flag)
            for sid in unit.segment_ids:
                if sid not in current.evidence.segment_ids:
                    current.evidence.segment_ids.append(sid)
    meds = list(merged.values())
    for med in meds:  # the same check as on prescription lines: a strength the drug is not made in is flagged
        med.flags = [*med.flags, *strength_flags(med)]
    return meds
