"""Names the recogniser was primed with, heard again before they are drafted.

The first pass hears every clip with the hot-word list of ``backend/data/drug_prompt.txt``. Being primed with
those names, Whisper also writes them where something else was said. Its brands are names it has rarely heard: on
US speech "history of eczema" came out "Ecosprin", "Pepcid" came out "Pantocid", "but I don't" came out
"Budecort". Its generics are pulled onto other words too: a closing "Great!" came out "Ciprofloxacin, rate.", and
"cephalexin" in a list of tried drugs came out "cetirizine" (MTS-Dialog). So each name of that list that the first
pass wrote is decoded once more on its own few seconds, with only the drug names that sound nearest to it (the
name itself among them, so a name truly said is heard again):

- the short listen names it again: it stands, as the first pass drafted it;
- it names one other of the offered drugs instead ("Pepcid"): that drug is recovered, unverified, heard as the
  first-pass word;
- it names no drug (or several): the name is not known; the draft reads "(unclear)" there and lists nothing;
- it reads out its prompt both times (a list of names, more words than fit): nothing is changed.

When a recording has more such words than :data:`MAX_PRIMED`, brands are heard again first (they are pulled
onto other words most often), then generics, each in time order.

The transcript always keeps what was first heard; what was decided is kept as a recovery (``heard`` -> drug or
"(unclear)") in the note's provenance, so a reviewer sees both readings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from backend.domain.medications.hint_list import hint_list_names
from backend.domain.medications.names import exact_lookup
from backend.domain.medications.parser import find_names
from backend.domain.medications.recovery import UNCLEAR, Recovery, _letters
from backend.domain.models import Segment

MAX_PRIMED = 8  # decodes per recording for this check (each about one short Whisper window)

Decode = Callable[[float, float, str], str]  # (start s, end s, hot words) -> text


@dataclass(frozen=True)
class PrimedWord:
    """One first-pass word that is a brand of the hot-word list, with where it is."""

    segment_id: int
    heard: str
    start: int  # character offsets of ``heard`` in the segment's text
    end: int
    t_start: float
    t_end: float
    generic: str


@cache
def hint_names() -> dict[str, tuple[str, bool]]:
    """Names of the hot-word list (``drug_prompt.txt``) by the letters of their first word: their generic, and
    whether the name is a brand (spelt otherwise than its generic)."""
    out: dict[str, tuple[str, bool]] = {}
    for name in hint_list_names():
        match = exact_lookup(name) or exact_lookup(name.split()[0])  # "Dolo 650": Dolo
        if match is not None:
            out[_letters(name.split()[0])] = (match.generic, _letters(match.generic) != _letters(name))
    return out


def find_primed(segments: Sequence[Segment]) -> list[PrimedWord]:
    """First-pass words that spell a name of the hot-word list, in time order: at most :data:`MAX_PRIMED`,
    brands before generics when there are more."""
    names = hint_names()
    found: list[tuple[bool, PrimedWord]] = []
    for seg in segments:
        pos = 0
        for w in seg.words:
            word = w.text.strip(" ,.;:!?\"'()")
            at = seg.text.find(word, pos) if word else -1
            if at < 0:
                continue
            pos = at + len(word)
            named = names.get(_letters(word))
            if named is not None:
                found.append((named[1], PrimedWord(seg.id, word, at, at + len(word), w.start, w.end, named[0])))
    kept = sorted(range(len(found)), key=lambda k: (not found[k][0], k))[:MAX_PRIMED]
    return [found[k][1] for k in sorted(kept)]


def named_generics(text: str) -> set[str]:
    """Generics of the drug names a decode wrote (exact spellings only)."""
    return {h.match.generic for h in find_names(text, correct=False, strict_ambiguous=False)}


def verdict(word: PrimedWord, decoded: str, offered: Sequence[str]) -> Recovery | None:
    """What one short listen says of a primed brand: None when it stands, else a recovery (another drug, or
    "(unclear)" when it named none or several)."""
    offered_generics = {g for n in offered if (m := exact_lookup(n)) is not None for g in [m.generic]}
    named = named_generics(decoded) & (offered_generics | {word.generic})
    if word.generic in named:
        return None
    drug = next(iter(named)) if len(named) == 1 else UNCLEAR
    return Recovery(word.segment_id, word.heard, drug, word.start, word.end, 0.0)
