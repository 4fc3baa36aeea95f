"""What a recording goes through after it is decoded: transcribe, speaker roles, drug-name recovery, draft.

One path for the worker (``scribe.process_job``), the ``python -m backend draft`` command and ``eval scribe``,
so what is measured is what the app does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backend.domain.errors import ValidationFailed
from backend.domain.medications.recovery import Recovery, recover_drug_names
from backend.domain.medications.second_pass import second_pass, write_in
from backend.domain.models import Medication, Segment
from backend.domain.note_content import NoteContent, RecoveredName
from backend.domain.speakers import assign_roles, roles_from_wording
from backend.ports import Drafter, SpanTranscriber, Transcriber

NO_SPEECH = "No speech detected in this recording — check the microphone and record again. No note was made."
# Checks of a recording that still gave text (music or tones heard as words, another language): warnings, or
# ValidationFailed when nothing can be drafted. Built by bootstrap (the Whisper engine's language check).
RecordingCheck = Callable[[Any, NDArray[np.float32], Sequence[Segment]], list[str]]


@dataclass(frozen=True)
class Heard:
    """A transcript with roles, and what the clinician should know about the recording."""

    segments: list[Segment]
    warnings: list[str] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)  # drug names the second listen found


@dataclass(frozen=True)
class DraftResult:
    """A draft and the transcript it came from (as heard: recovered names are not written into it)."""

    segments: list[Segment]
    content: NoteContent
    recoveries: list[Recovery]
    warnings: list[str] = field(default_factory=list)


def transcribe_recording(
    samples: NDArray[np.float32],
    transcriber: Transcriber,
    check: RecordingCheck | None = None,
    listen_again: bool = True,
) -> Heard:
    """Transcribe decoded audio and give each turn a role; ``listen_again``: the drug-name second pass.

    Raises:
        ValidationFailed: nothing was said (``NO_SPEECH``), or the recording is not a consultation that can be
            drafted from (music or tones, no English at all: see ``backend.domain.audio_checks``).
    """
    segments = transcriber.transcribe(samples)
    if not any(s.text.strip() for s in segments):
        raise ValidationFailed(NO_SPEECH)
    # Bad input that still gave text (music or tones heard as words, another language): fail clearly or warn.
    checked = check(transcriber, samples, segments) if check is not None else []
    roles = assign_roles(samples, segments)
    segments = renumber(roles.segments)
    # Engines that can decode a stretch again listen once more, with a short list of drug names, where a name
    # was clearly said but not recognised; what they find drafts unverified (the transcript stays as heard).
    found: list[Recovery] = []
    if listen_again and isinstance(transcriber, SpanTranscriber):
        spans = transcriber
        found = second_pass(
            segments, lambda a, b, hot: spans.transcribe_span(samples, a, b, hot), len(samples) / 16_000
        )
    return Heard(segments, [*checked, *roles.warnings], found)


def label_transcript(segments: Sequence[Segment]) -> Heard:
    """Roles for a typed or pasted transcript: tags are kept, untagged turns get a role from their wording."""
    if segments and all(s.speaker for s in segments):
        return Heard(list(segments))
    roles = roles_from_wording(segments)
    return Heard(renumber(roles.segments), list(roles.warnings))


def draft_transcript(segments: Sequence[Segment], draft: Drafter, heard: Sequence[Recovery] = ()) -> DraftResult:
    """Draft from a transcript with roles; drug names recovered from misheard words come back unverified.

    ``heard``: names the second listen found (``Heard.recoveries``), drafted the same way as recovered ones.
    """
    recovered = recover_drug_names(write_in(segments, heard))
    if heard:
        recovered = type(recovered)(recovered.segments, sorted([*heard, *recovered.recoveries], key=_order))
    content = draft(recovered.segments)
    update: dict[str, Any] = {"medications": [mark_recovered(m, recovered.recoveries) for m in content.medications]}
    if recovered.recoveries:
        names = [
            RecoveredName(segment_id=r.segment_id, heard=r.heard, drug=r.drug, score=round(float(r.score), 3))
            for r in recovered.recoveries
        ]
        update["provenance"] = content.provenance.model_copy(update={"recovered_names": names})
    return DraftResult(list(segments), content.model_copy(update=update), list(recovered.recoveries))


def _order(r: Recovery) -> tuple[int, int]:
    return r.segment_id, r.start


def mark_recovered(med: Medication, recoveries: Sequence[Recovery]) -> Medication:
    """A medication whose name came only from a recovered (sounds-like) name: unverified, with what was heard."""
    ids = set(med.evidence.segment_ids)
    hits = [r for r in recoveries if r.segment_id in ids and r.drug.lower() == med.name.lower()]
    if not hits:
        return med
    heard = "; ".join(dict.fromkeys(r.heard for r in hits))
    return med.model_copy(
        update={
            "verified": False,
            "found_by": "sounds_like",
            "heard_as": heard,
            "flags": [*med.flags, f"name recovered from speech heard as “{heard}”: confirm"],
        }
    )


def renumber(segments: Sequence[Segment]) -> list[Segment]:
    """Ids 0..n-1 in time order (role assignment may split a segment at a change of speaker)."""
    return [s if s.id == i else s.model_copy(update={"id": i}) for i, s in enumerate(segments)]
