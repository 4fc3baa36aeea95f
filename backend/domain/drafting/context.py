"""Whose a condition is and whether the sentence states it: ConText-style cues around a mention.

"my mother has breast cancer" -> family history; "the risks include stroke" and "CVA tenderness" -> not a
diagnosis; "if it were asthma" -> supposed. A mention the patient has is none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.domain.drafting.rules import context_cues, context_patterns, negation_cues, stopwords, text_rules

# "risk of" reaches this many words forward ("risk of heart attack, stroke, and death" names three).
NOT_PRE_WORDS = 6
# "if" reaches this many words forward ("call me if you gain 3 pounds ... for the hypertension" is not a supposition).
CONDITIONAL_WORDS = 6
# A cue after the name must follow it at once ("cancer screening", "covid vaccine").
NOT_POST_WORDS = 1


@dataclass(frozen=True)
class MentionContext:
    """How a sentence speaks of one mention."""

    family: bool = False  # a relative's condition
    other: bool = False  # someone else's ("people", "they") or general talk
    not_finding: bool = False  # a risk, a screening, a test, an exam sign named after it
    conditional: bool = False  # only supposed ("if", "we may need to")

    @property
    def patients(self) -> bool:
        """True when nothing says the mention is not a condition the patient has."""
        return not (self.family or self.other or self.not_finding or self.conditional)


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _last_before(regex: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    found = None
    for m in regex.finditer(text, 0, start):
        if m.end() <= start:
            found = m
    return found


def _terminated(text: str, a: int, b: int) -> bool:
    """A scope-ending word ("but", "and i have") between ``a`` and ``b``."""
    return any(a <= m.start() < b for m in negation_cues()["term"].finditer(text))


def _everyday(text: str, start: int, end: int) -> bool:
    """An everyday word used as such: "a little strain", "stress and strain", "strain your urine"."""
    if not context_cues()["everyday"].fullmatch(text[start:end]):
        return False
    if re.match(r"\s+of\s+(?:the|your|his|her|my|their|a)\b", text[end:]):
        return False  # "a strain of your posterior cruciate ligament" names its site after it
    fillers = set(text_rules()["fillers"])
    words = [w for w in re.findall(r"[\w'-]+", text[:start]) if w not in fillers]  # "lumbar, um, strain"
    return not words or words[-1] in stopwords() or words[-1] in {"to", "feel", "stress"}


def mention_context(text: str, start: int, end: int, speaker: str = "patient") -> MentionContext:
    """The context of the mention ``text[start:end]`` in a normalised sentence.

    Args:
        text: a lower-cased sentence with contractions expanded (``text.normalise``).
        start: where the mention starts.
        end: where it ends.
        speaker: who said it; a relative who speaks for the patient ("other") calls the patient "my father".

    Returns:
        Whose the mention is and whether the sentence states it as a condition.
    """
    cues = context_cues()
    family_cue = _last_before(cues["family"], text, start)
    family = family_cue is not None and not _terminated(text, family_cue.end(), start)
    if family and speaker == "other" and family_cue is not None and text[: family_cue.start()].endswith("my "):
        family = False  # a daughter speaking for the patient: "my father has diabetes" is the patient's
    family = family or bool(context_patterns()["family_after"].match(text[end:]))
    other_cue = _last_before(cues["other"], text, start)
    other = False
    if other_cue is not None:
        # "they told me i have diabetes" is the patient's: a word for the patient after the cue takes it back.
        between = text[other_cue.end() : start]
        other = not cues["patient"].search(between) and not _terminated(text, other_cue.end(), start)
    pre = _last_before(cues["not_pre"], text, start)
    not_finding = pre is not None and _words(text[pre.end() : start]) <= NOT_PRE_WORDS
    post = cues["not_post"].search(text, end)
    not_finding = not_finding or (post is not None and _words(text[end : post.start()]) < NOT_POST_WORDS)
    not_finding = not_finding or _everyday(text, start, end)
    conditional = False
    for kind in ("conditional", "hypothetical"):
        cue = _last_before(cues[kind], text, start)
        if cue is None or _terminated(text, cue.end(), start) or _words(text[cue.end() : start]) > CONDITIONAL_WORDS:
            continue
        # "not sure if it is asthma" is doubt (a possible diagnosis), not a supposition
        conditional = conditional or not context_patterns()["unsure_before"].search(text[: cue.start()])
    return MentionContext(family, other, not_finding, conditional)


def about_family(text: str) -> bool:
    """True when a sentence names a relative (the next sentence's "she has ..." may be theirs)."""
    return bool(context_cues()["family"].search(text))
