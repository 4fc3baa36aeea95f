"""Transcript segments -> sentences ("units") with their speaker and the ids of the segments they span."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.domain.drafting.text import looks_like_question, normalise, split_sentences
from backend.domain.models import Segment

_DOCTOR = re.compile(r"doctor|\bdr\b|clinician|physician|provider|nurse|\bmd\b|practitioner", re.IGNORECASE)
_PATIENT = re.compile(r"^\s*(?:the\s+)?patient\s*$|^\s*pt\s*$", re.IGNORECASE)


def speaker_role(speaker: str | None) -> str:
    """ "doctor", "patient", "other" (a relative, an interpreter) or "unknown" (no diarization)."""
    if not speaker or not speaker.strip():
        return "unknown"
    if _DOCTOR.search(speaker):
        return "doctor"
    if _PATIENT.match(speaker):
        return "patient"
    return "other"


@dataclass
class Unit:
    """One sentence of the consultation."""

    index: int
    turn: int
    speaker: str  # doctor | patient | other | unknown
    raw: str
    norm: str
    segment_ids: list[int] = field(default_factory=list)

    question: bool = False


def build_units(segments: Sequence[Segment]) -> list[Unit]:
    """Join consecutive segments of one speaker into turns and split the turns into sentences.

    A sentence carries the id of every segment its characters overlap, so evidence survives segments that cut
    a sentence in two (speech recognisers do) or hold several sentences (typed dialogues do).
    """
    units: list[Unit] = []
    turn: list[Segment] = []
    turn_no = 0

    def flush() -> None:
        nonlocal turn_no
        if not turn:
            return
        text, offsets = "", []
        for seg in turn:
            piece = seg.text.strip()
            if not piece:
                continue
            if text:
                text += " "
            offsets.append((len(text), len(text) + len(piece), seg.id))
            text += piece
        for start, end in split_sentences(text):
            ids = [sid for a, b, sid in offsets if a < end and start < b]
            raw = text[start:end].strip()
            norm = normalise(raw)
            role = speaker_role(turn[0].speaker)
            units.append(Unit(len(units), turn_no, role, raw, norm, ids, looks_like_question(raw, norm)))
        turn_no += 1
        turn.clear()

    for seg in segments:
        if turn and seg.speaker != turn[-1].speaker:
            flush()
        turn.append(seg)
    flush()
    return units
