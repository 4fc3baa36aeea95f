"""Roles from the wording when the voices cannot be told apart: the transcript cut into turns at pauses first.

A recogniser's segments run across turns (a 20 s window holds a question and its answer), so naming whole segments
by their wording gives each of them one role for two people's words: 0.58-0.79 of the words right on ACI-Bench
consultations spoken by two voices too close to count (one espeak-ng voice at pitch 45 and 55), against 0.94 for
the same wording with one line per turn. People take turns at pauses, so the segments are cut where the words stop
for ``PAUSE_S`` or more, and the pieces are named in order by their wording and the alternation prior
(``wording.sequence_roles``), as typed turns are. A pause inside one person's turn cuts it too; the prior then pulls
its pieces apart, which the wording of each piece has to outweigh.

Measured (``python -m backend eval robustness ... --roles-only``, words timed from the true turns, ACI-Bench valid
and train rows 0-3, whole consultations): one voice at pitch 45 / 55 0.700 -> 0.861; en-us vs en-gb-x-rp at one
pitch 0.689 -> 0.848 (both heard as one voice, 8 of 8, with the warning). With the recogniser's words, which pause
inside turns too, a 59 s consultation of the close voices in room noise at 12 dB: 0.55 -> 0.80
(``tests/integration/test_speaker_roles_noisy.py``). Two voices that can be counted never come here.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.domain.models import Segment
from backend.domain.speakers.split import split_segment
from backend.domain.speakers.wording import sequence_roles

PAUSE_S = 0.3  # a silence this long between two words may be a change of speaker


def pause_pieces(segments: Sequence[Segment], pause_s: float = PAUSE_S) -> list[Segment]:
    """The segments cut at every pause of ``pause_s`` or more between two of their words (times in order).

    Segments without words stay whole; a pause between two segments already separates them.
    """
    out: list[Segment] = []
    for seg in segments:
        if len(seg.words) < 2:
            out.append(seg)
            continue
        labels, run = [0], 0
        for prev, word in zip(seg.words, seg.words[1:], strict=False):
            run += int(word.start - prev.end >= pause_s)
            labels.append(run)
        out.extend(piece for piece, _ in split_segment(seg, labels))
    return out


def roles_by_turns(segments: Sequence[Segment], pause_s: float = PAUSE_S) -> list[Segment]:
    """Segments cut at pauses, each piece given the role its wording and the turn order suggest.

    Segments that already have a speaker keep it (and are not cut).
    """
    pieces = [p for s in segments for p in ([s] if s.speaker else pause_pieces([s], pause_s))]
    open_ = [p for p in pieces if not p.speaker]
    roles = iter(sequence_roles([p.text for p in open_]))
    return [p if p.speaker else p.model_copy(update={"speaker": next(roles), "role_source": "wording"}) for p in pieces]
