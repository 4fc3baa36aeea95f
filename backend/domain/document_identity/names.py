"""Is the name on a document the selected patient's? Tolerant of titles, initials, order and OCR noise.

"Mr. R. Kumar" is Ram Kumar; "Kumar Ram" is too; "Kavlta Joshi" (OCR) is Kavita Joshi; "Mohd Iqbal" is
Mohammed Iqbal (spellings as data). "Kavita Joshi" is not Sita Devi, and "Ram Verma" is not Ram Kumar: every
full word the document gives must be close to a different word of the patient's name.
"""

from __future__ import annotations

import itertools
import re

import jellyfish
from rapidfuzz.distance import Levenshtein

from backend.domain.document_identity.cues import cues
from backend.domain.text import fold

AGREE = 0.8  # weighted mean similarity of the document's words at or above which the names agree
WORD_FLOOR = 0.7  # and no full word of the document below this
_LOOKALIKE_LETTERS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "|": "l", "$": "s", "@": "a"})
_NOT_LETTERS = re.compile(r"[^a-z]+")
_MAX_WORDS = 6


def name_words(name: str) -> list[str]:
    """Folded words of a name without titles, honorific suffixes or a relative ("S/o ...")."""
    c = cues()
    relation = c.relations.search(name)
    if relation:
        name = name[: relation.start()]
    text = fold(name).translate(_LOOKALIKE_LETTERS).replace("'", "").replace("’", "")
    words = [w for w in _NOT_LETTERS.split(text) if w]
    while len(words) > 1 and words[0] in c.titles:
        words.pop(0)
    while len(words) > 1 and words[-1] in c.suffixes:
        words.pop()
    return [c.aliases.get(w, w) for w in words][:_MAX_WORDS]


def _word_similarity(a: str, b: str) -> float:
    if len(a) == 1 or len(b) == 1:  # an initial stands for any word starting with it
        return 1.0 if a[0] == b[0] else 0.0
    score = Levenshtein.normalized_similarity(a, b)
    if score >= 0.6 and jellyfish.metaphone(a) == jellyfish.metaphone(b):
        score = max(score, 0.9)  # Kavitha / Kavita, Lakshmy / Lakshmi
    return score


def _weight(word: str) -> float:
    return 0.5 if len(word) == 1 else 1.0


def _best_assignment(doc: list[str], patient: list[str]) -> list[float]:
    """Similarity of each document word to a distinct patient word, the best pairing overall."""
    slots = patient + [""] * max(0, len(doc) - len(patient))  # "" = matched to nothing
    best: list[float] = [0.0] * len(doc)
    best_total = -1.0
    for perm in itertools.permutations(range(len(slots)), len(doc)):
        scores = [_word_similarity(d, slots[j]) if slots[j] else 0.0 for d, j in zip(doc, perm, strict=True)]
        total = sum(s * _weight(d) for s, d in zip(scores, doc, strict=True))
        if total > best_total:
            best, best_total = scores, total
    return best


def name_similarity(document_name: str, patient_name: str) -> float | None:
    """Similarity in [0, 1] of a name read from a document to a registered name; None if either has no words."""
    doc, patient = name_words(document_name), name_words(patient_name)
    if not doc or not patient:
        return None
    scores = _best_assignment(doc, patient)
    weights = [_weight(d) for d in doc]
    mean = sum(s * w for s, w in zip(scores, weights, strict=True)) / sum(weights)
    full = [s for s, d in zip(scores, doc, strict=True) if len(d) > 1]
    if not full:  # initials only ("R. K.") say too little to agree
        mean = min(mean, AGREE - 0.01)
    elif min(full) < WORD_FLOOR:
        mean = min(mean, min(full))
    # OCR may drop or add the space between words: "KavitaJoshi", "Sita Devi" read as "Sitadevi".
    joined = "".join(doc)
    merged = max(
        Levenshtein.normalized_similarity(joined, "".join(order))
        for order in itertools.permutations(patient, len(patient))
    )
    if len(joined) >= 6 and merged >= 0.85:
        mean = max(mean, merged)
    return round(mean, 3)


def names_agree(document_name: str, patient_name: str) -> bool | None:
    """True / False, or None when either name has no words."""
    score = name_similarity(document_name, patient_name)
    return None if score is None else score >= AGREE
