"""NegEx/ConText-style symptom findings.

"denies fever" -> fever absent; "no chest pain but has cough" -> chest pain absent, cough present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.domain.drafting.rules import Lexicon, negation_cues, symptoms

# A negation cue reaches this many words forward (NegEx uses five; lists like "no fever, chills or cough" need more).
SCOPE_WORDS = 8


@dataclass(frozen=True)
class Finding:
    """A symptom mention and whether the sentence affirms it."""

    name: str
    present: bool
    start: int
    end: int
    hypothetical: bool = False


def _words_between(text: str, start: int, end: int) -> int:
    return len(re.findall(r"\w+", text[start:end]))


def find_symptoms(text: str) -> list[Finding]:
    """Symptoms named in a normalised sentence, each present or absent (``find_findings`` over the symptoms)."""
    return find_findings(text, symptoms())


def find_findings(text: str, lexicon: Lexicon) -> list[Finding]:
    """Mentions of ``lexicon`` (symptoms, conditions) in a normalised sentence, each present or absent.

    A pre-negation cue ("denies", "no", "without", "negative for") negates mentions up to ``SCOPE_WORDS`` words
    after it unless a termination word ("but", "however") comes first; pseudo-negations ("no change") negate
    nothing; a post-negation ("... is negative") negates what precedes it; hypothetical cues ("if", "call me if")
    mark the mention as not a finding.

    Args:
        text: a lower-cased sentence with contractions expanded (see ``text.normalise``).
        lexicon: what to find.

    Returns:
        One ``Finding`` per mention, in order.
    """
    cues = negation_cues()
    pseudo_spans = [m.span() for m in cues["pseudo"].finditer(text)]

    def in_pseudo(pos: int) -> bool:
        return any(a <= pos < b for a, b in pseudo_spans)

    pre = [m for m in cues["pre"].finditer(text) if not in_pseudo(m.start())]
    terms = [m.start() for m in cues["term"].finditer(text)]
    hypos = [m.end() for m in cues["hypo"].finditer(text)]
    posts = [m.start() for m in cues["post"].finditer(text)]
    findings: list[Finding] = []
    for start, end, name in lexicon.find(text):
        negated = False
        for cue in pre:
            if cue.end() > start:
                continue
            if _words_between(text, cue.end(), start) > SCOPE_WORDS:
                continue
            if any(cue.end() <= t < start for t in terms):
                continue
            negated = True
        for post in posts:
            if end <= post and _words_between(text, end, post) <= 3 and not any(end <= t < post for t in terms):
                negated = True
        hypothetical = any(h <= start and not any(h <= t < start for t in terms) for h in hypos)
        findings.append(Finding(name, not negated, start, end, hypothetical))
    return findings
