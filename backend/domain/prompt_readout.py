"""Whisper writing its own prompt as speech: a run of the prompt's drug names with nothing said between them.

Given the drug list as hot words, Whisper base sometimes "hears" part of that list where someone said something
else: "cetirizine, metoprolol, atorvastatin, ciprofloxacin, cetirizine, metoprolol," over a patient's answer in
an MTS-Dialog consultation, four false drugs in one draft. The loop check misses it (no phrase repeats back to
back). People name medicines with words between them ("metformin and lisinopril", "metformin 500 twice a
day"): in the 1,388 dialogues of ACI-Bench and MTS-Dialog (train and validation), not even two names of the
list stand side by side with only punctuation between them. A run of three or more in which a name comes back,
or whose names follow the list's own order, is taken as the prompt read out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

READOUT_MIN_NAMES = 3
_WORD = re.compile(r"[\w'-]+")


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation ("Ciprofloxacin, ciprofloxacin." -> two equal words)."""
    return [w.lower() for w in _WORD.findall(text)]


def prompt_names(names: Sequence[str]) -> tuple[str, ...]:
    """The prompt's one-word names as the checks compare words ("Pan-D" -> "pan-d"), in the prompt's order."""
    keys = (words_of(name) for name in names)
    return tuple(k[0] for k in keys if len(k) == 1)


def readout_words(words: Sequence[str], names: Sequence[str]) -> set[int]:
    """Indices of ``words`` (Whisper's words, punctuation attached) that read the prompt's names out.

    Args:
        words: The words of one segment, in order.
        names: :func:`prompt_names` of the prompt the segment was decoded with (empty: no prompt, no readout).
    """
    order = {name: i for i, name in reversed(list(enumerate(names)))}
    keys = ["".join(words_of(w)) for w in words]
    found: set[int] = set()
    start = 0
    while start < len(keys):
        end = start
        while end < len(keys) and keys[end] in order:
            end += 1
        if end == start:
            start += 1
            continue
        run = [order[k] for k in keys[start:end]]
        repeats = len(set(run)) < len(run)
        in_list_order = all(a < b for a, b in itertools.pairwise(run))
        if len(run) >= READOUT_MIN_NAMES and (repeats or in_list_order):
            found.update(range(start, end))
        start = end
    return found
