"""Drug names that speech recognition split into ordinary words ("list in April" -> lisinopril?).

Recovered names are hints for drafting, never silent replacements: the transcript keeps what was heard, and a
medication found through a recovered name is unverified, with ``heard_as`` naming the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.domain.models import Segment


@dataclass(frozen=True)
class Recovery:
    """One recovered name: ``heard`` (the words as transcribed) in segment ``segment_id`` sounds like ``drug``."""

    segment_id: int
    heard: str
    drug: str
    start: int  # character offsets of ``heard`` in the segment's text
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class Recovered:
    """Segments to draft from (recovered names written in) and the recoveries made."""

    segments: list[Segment]
    recoveries: list[Recovery] = field(default_factory=list)


def recover_drug_names(segments: Sequence[Segment]) -> Recovered:
    """Placeholder until the sounds-like matcher lands: nothing recovered."""
    return Recovered(list(segments))
