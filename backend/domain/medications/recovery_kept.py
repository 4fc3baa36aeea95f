"""Drug names recovered when a note was drafted, found again in its transcript for a redraft.

The second listen (``second_pass``) decodes audio again; a redraft (the clinician fixed who said what) has only
the stored transcript, so what that listen found would be lost. The note keeps every recovered name with the
segment and the words it was heard as (``NoteContent.provenance.recovered_names``): those words are looked up
again in the segment's text, and each one still there comes back as a :class:`Recovery` to draft with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from backend.domain.medications.recovery import Recovery
from backend.domain.models import Segment
from backend.domain.note_content import RecoveredName


def recoveries_again(segments: Sequence[Segment], names: Iterable[RecoveredName]) -> list[Recovery]:
    """The stored recovered names whose heard words are still in their segment, as recoveries (in text order).

    A name whose segment is gone or whose words are no longer in its text (an edited transcript) is left out;
    when the same words occur twice in a segment, each stored name takes the next occurrence not yet taken.
    """
    texts = {s.id: s.text for s in segments}
    taken: dict[int, list[tuple[int, int]]] = {}
    out: list[Recovery] = []
    for name in names:
        text = texts.get(name.segment_id)
        if text is None or not name.heard:
            continue
        at = _free_occurrence(text, name.heard, taken.setdefault(name.segment_id, []))
        if at < 0:
            continue
        span = (at, at + len(name.heard))
        taken[name.segment_id].append(span)
        out.append(Recovery(name.segment_id, name.heard, name.drug, span[0], span[1], name.score))
    return sorted(out, key=lambda r: (r.segment_id, r.start))


def _free_occurrence(text: str, heard: str, taken: Sequence[tuple[int, int]]) -> int:
    """The first offset of ``heard`` in ``text`` that overlaps no span already taken (-1 if none)."""
    at = text.find(heard)
    while at >= 0 and any(a < at + len(heard) and at < b for a, b in taken):
        at = text.find(heard, at + 1)
    return at
