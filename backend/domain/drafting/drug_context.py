"""Whether a drug named in a sentence is one the patient takes: ConText-style cues in the drug's own clause.

"I am allergic to penicillin" (an allergy), "your b12 level is low" (a result) and "if it gets worse we may start
metformin" (a possibility) name drugs the patient does not take: they are left out of the medication list. "I
have not been taking my lisinopril", "I do not want the statin" and "try not to take any ibuprofen" name drugs the
patient is not to take now: they stay, as declined (never active), with the reason for the clinician; "I stopped
taking it" is left to the status cues (stopped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.domain.drafting.rules import context_cues, context_patterns

# Cues count this close before the drug's name (characters), and within its clause: "stop the lisinopril, start
# metformin" gives each drug its own status.
WINDOW = 40
_LEAD_WORDS = 3  # words before a cue the reason quotes ("i do not want ..."), within the clause
TRIED = "tried, did not help"  # the start of a tried drug's ``status_reason``: it was taken for the complaint
_FAILED_REACH = 80  # characters after the drug (or into the patient's next sentence) "it did not help" may be said
FLAGS = {
    "refused": "the patient does not want it",
    "avoid": "the clinician advised not to take it",
    "not_taking": "the patient is not taking it",
}


@dataclass(frozen=True)
class DrugUse:
    """What a sentence says of a drug it names."""

    skip: bool = False  # not the patient's medication at all
    status: str | None = None  # "declined" when the patient is not to take it now
    flag: str | None = None  # the kind of reason (a value of ``FLAGS``)
    said: str | None = None  # the words said, from the clause's start to the drug (the ``status_reason``)


def _last_before(regex: re.Pattern[str], text: str, left: int, start: int) -> re.Match[str] | None:
    lo = max(left, start - WINDOW)
    found = [m for m in regex.finditer(text, lo, start) if m.end() <= start]
    return found[-1] if found else None


def _near_before(regex: re.Pattern[str], text: str, left: int, start: int) -> bool:
    return _last_before(regex, text, left, start) is not None


def _said(text: str, left: int, start: int, end: int) -> str:
    """The words from up to ``_LEAD_WORDS`` words before ``start`` (not past a comma or ``left``) to ``end``."""
    clause = max(left, max((text.rfind(c, 0, start) + 1 for c in ",.;?!"), default=0))
    lead = re.findall(r"\S+\s*", text[clause:start])
    begin = start - sum(len(w) for w in lead[-_LEAD_WORDS:])
    return " ".join(text[begin:end].split()).strip(" ,.;")


def named_as_example(text: str, start: int) -> bool:
    """Whether the drug at ``start`` follows "like" / "such as" in the same clause (an example in a question)."""
    clause = max((text.rfind(c, 0, start) + 1 for c in ",.;?!"), default=0)
    return context_patterns()["example_before"].search(text, max(clause, start - 60), start) is not None


def taken_in_the_past(text: str, left: int, start: int, end: int, right: int) -> bool:
    """ "i used to take metformin", "i was on lisinopril before": once the patient's, not now."""
    patterns = context_patterns()
    before = text[max(left, start - WINDOW) : start]
    if patterns["used_to_before"].search(before):
        return True
    return bool(patterns["past_before"].search(before)) and bool(patterns["past_after"].match(text[end:right]))


def drug_context(text: str, start: int, end: int, left: int = 0, right: int | None = None) -> DrugUse:
    """What the sentence ``text`` says of the drug named at ``text[start:end]``.

    Args:
        text: a normalised sentence (lower case, contractions expanded).
        start: where the name starts.
        end: where it ends.
        left: where the drug's clause starts (the end of the drug named before it, or 0).
        right: where it ends (the start of the next drug named, or the sentence's end).

    Returns:
        Left out (``skip``), declined with a reason, or nothing to say (the status cues decide).
    """
    cues, patterns = context_cues(), context_patterns()
    right = len(text) if right is None else right
    if _near_before(cues["allergy"], text, left, start):
        return DrugUse(skip=True)
    if (
        patterns["result_after"].match(text[end:right])
        or patterns["result_before"].search(text[left:start])
        or _near_before(cues["result_pre"], text, max(left, start - 25), start)
    ):
        return DrugUse(skip=True)
    if _near_before(cues["hypothetical"], text, left, start):
        return DrugUse(skip=True)
    refused_after = cues["refused"].search(text, end, right)  # "the statin? i do not want it"
    if refused_after is not None and refused_after.start() - end <= WINDOW:
        return DrugUse(status="declined", flag=FLAGS["refused"], said=_said(text, left, start, refused_after.end()))
    for kind in ("refused", "avoid", "not_taking"):
        cue = _last_before(cues[kind], text, left, start)
        if cue is None:
            continue
        if kind == "avoid" and patterns["goal_after_avoid"].match(text[cue.end() : start]):
            return DrugUse(skip=True)  # a goal of the plan: the drug is neither taken nor offered
        return DrugUse(status="declined", flag=FLAGS[kind], said=_said(text, left, cue.start(), end))
    return DrugUse()


def tried_without_help(text: str, start: int, end: int, next_text: str = "") -> str | None:
    """The words said when the drug at ``text[start:end]`` was tried and did not help, else None.

    "i tried tylenol and advil , none of them helped" (both drugs), "i even tried some castor oil but it did not
    work", or "i tried ibuprofen ." followed by the patient's "it did not help at all": the quote runs from
    "tried" to the words of the failure, so the note shows what was said, never a guess.

    Args:
        text: the normalised sentence.
        start: where the drug's name starts.
        end: where it ends.
        next_text: the next sentence when the same speaker, or the patient answering, says it (else "").
    """
    patterns = context_patterns()
    clause = max((text.rfind(c, 0, start) + 1 for c in ",.;?!"), default=0)
    tried = patterns["tried_before"].search(text, max(clause, start - WINDOW), start)
    if tried is None:
        return None
    failed = patterns["failed_after"].search(text, end, min(len(text), end + _FAILED_REACH))
    if failed is not None:
        return " ".join(text[tried.start() : failed.end()].split())
    failed = patterns["failed_next"].match(next_text)  # at its start: "it did not help", "yes , none of them did"
    if failed is None:
        return None
    said = " ".join(text[tried.start() : end].split())
    return f"{said} ... {' '.join(next_text[: failed.end()].split())}"
