"""The scribe pipeline on one file, as a report: used by ``python -m backend draft`` and ``eval scribe``."""

from __future__ import annotations

import re
from typing import Any

from backend.domain.drafting import render_note_text
from backend.domain.drafting.units import speaker_role
from backend.domain.limits import DEFAULT_LIMITS, Limits
from backend.domain.models import Segment
from backend.ports import AudioCodec, Transcriber
from backend.services.scribe_pipeline import (
    NO_SPEECH,
    Drafter,
    DraftResult,
    Heard,
    RecordingCheck,
    draft_transcript,
    label_transcript,
    transcribe_recording,
)

_TAG = re.compile(r"^\s*\[([^\]]{1,40})\]\s*(.*)$")
_ROLE = {"doctor": "clinician", "patient": "patient", "other": "other"}


def parse_transcript(text: str) -> list[Segment]:
    """One segment per non-empty line; a leading ``[doctor]`` / ``[patient]`` / ``[name]`` tag sets its role.

    Lines have no times: each is given one second, in order, so evidence still points at the right turn.
    """
    segments: list[Segment] = []
    for line in text.splitlines():
        m = _TAG.match(line)
        tag, words = (m.group(1), m.group(2)) if m else (None, line)
        words = words.strip()
        if not words:
            continue
        role = _ROLE.get(speaker_role(tag)) if tag else None  # a blank tag "[ ]" is no tag
        i = len(segments)
        segments.append(
            Segment(
                id=i, start=float(i), end=float(i + 1), text=words, speaker=role, role_source="tag" if role else None
            )
        )
    return segments


def heard_from_audio(
    data: bytes,
    codec: AudioCodec,
    transcriber: Transcriber,
    check: RecordingCheck | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Heard, list[str], float]:
    """Decode and transcribe a recording as the worker does; returns (heard, decode warnings, seconds of audio)."""
    from backend.domain.errors import ValidationFailed

    samples, warnings = codec.decode(data, limits.max_audio_seconds, limits.max_audio_bytes)
    if codec.is_silent(samples):
        raise ValidationFailed(NO_SPEECH)
    return transcribe_recording(samples, transcriber, check), list(warnings), len(samples) / 16_000


def heard_from_text(text: str) -> Heard:
    """A transcript file as the pipeline sees it: tags kept, untagged turns given a role by their wording."""
    return label_transcript(parse_transcript(text))


def note_text(result: DraftResult) -> str:
    """The note as rendered for reading (the same text the review screen shows)."""
    text = render_note_text(result.content)
    if not result.content.sentences:  # an LLM draft without sentence records: its sections, in SOAP order
        text = "\n\n".join(f"{k.upper()}\n\n{v}" for k, v in result.content.sections.items() if v.strip())
    return text


def report(heard: Heard, drafter: Drafter, warnings: list[str] | None = None) -> dict[str, Any]:
    """Draft ``heard`` and describe the result as JSON-ready data."""
    result = draft_transcript(heard.segments, drafter, heard.recoveries)
    return {
        "transcript": [
            {"start": s.start, "end": s.end, "text": s.text, "role": s.speaker or "other", "role_source": s.role_source}
            for s in result.segments
        ],
        "note_text": note_text(result),
        "sections": result.content.sections,
        "medications": [
            {
                "name": m.name,
                "strength": m.strength,
                "frequency": m.frequency,
                "route": m.route,
                "status": m.status,
                "verified": m.verified,
                "found_by": m.found_by or ("dictionary" if m.verified else "unknown"),
                "heard_as": m.heard_as,
                "verbatim": m.verbatim,
                "flags": m.flags,
                "segment_ids": m.evidence.segment_ids,
            }
            for m in result.content.medications
        ],
        "recovered_names": [r.model_dump() for r in result.content.provenance.recovered_names],
        "warnings": [*(warnings or []), *heard.warnings, *result.warnings],
    }
