"""Grounding check for language-model output: every fact must be said in the text it cites.

A model can write a fluent, plausible note that contains a drug, a dose or a blood pressure nobody said.
Each medication (and its dose), vital sign, diagnosis and sentence of an LLM draft names the transcript
segments it came from; here we check that those segments really contain it:

- the drug name (or the words as spoken) occurs in the cited segments;
- every number of a dose, a vital value or a sentence occurs in the cited segments (spoken numbers such as
  "five hundred" count as digits);
- every content word of a diagnosis occurs there (or of one of its synonyms, when the caller gives a table).

Anything unsupported is removed and listed for the clinician as "not found in the recording". Removing is
the safe direction: the clinician sees the list and can add an item back from the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pydantic import BaseModel, Field

from backend.domain.drafting.numbers import spoken_numbers_to_digits
from backend.domain.models import Medication, Segment
from backend.domain.text import fold

NOT_IN_RECORDING = "not found in the recording"
NOT_IN_DOCUMENT = "not found in the document"

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that carry no clinical content: a diagnosis "pain in the knee" is grounded by "knee pain".
_FILLER = frozenset(
    {"a", "an", "and", "the", "of", "in", "on", "at", "to", "for", "with", "without", "by", "from", "or", "is", "are",
     "was", "were", "due", "acute", "chronic", "mild", "moderate", "severe", "likely", "possible", "probable",
     "suspected", "history"}
)  # fmt: skip

DrugFinder = Callable[[str], list[str]]  # text -> drug names mentioned in it


class CitedSentence(BaseModel):
    """A sentence of a draft and the segment ids it cites."""

    section: str = "subjective"
    text: str
    segment_ids: list[int] = Field(default_factory=list)
    kind: str = "hpi"


class CitedFact(BaseModel):
    """A vital sign or a diagnosis with the segment ids it cites (``value``/``unit`` only for vitals)."""

    name: str
    value: str = ""
    unit: str = ""
    segment_ids: list[int] = Field(default_factory=list)


class GroundedDraft(BaseModel):
    """What survived the check, and what was removed (one line per removed item, for the clinician)."""

    sentences: list[CitedSentence] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    vitals: list[CitedFact] = Field(default_factory=list)
    diagnoses: list[CitedFact] = Field(default_factory=list)
    follow_up: list[CitedSentence] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)


def _canon_number(raw: str) -> str:
    whole, _, fraction = raw.replace(",", "").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def numbers_in(text: str) -> list[str]:
    """Numbers written in ``text`` in a canonical form ("1,000" -> "1000", "5.0" -> "5", "0.50" -> "0.5")."""
    return [_canon_number(m.group()) for m in _NUMBER.finditer(text)]


def _evidence_numbers(text: str) -> set[str]:
    return set(numbers_in(text)) | set(numbers_in(spoken_numbers_to_digits(text)))


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _word_in(word: str, words: set[str]) -> bool:
    if word in words:
        return True
    # plural/singular: "tablets" said, "tablet" written, and the reverse
    return any(w in words for w in (word + "s", word + "es", word.removesuffix("s"), word.removesuffix("es")))


def supports_term(evidence: str, term: str) -> bool:
    """True when every content word and number of ``term`` occurs in ``evidence``."""
    words = set(_words(evidence)) | set(_words(spoken_numbers_to_digits(evidence)))
    content = [w for w in _words(term) if w not in _FILLER and not w.isdigit()]
    if not content and not numbers_in(term):
        return False
    return all(_word_in(w, words) for w in content) and supports_numbers(evidence, term)


def supports_numbers(evidence: str, claim: str) -> bool:
    """True when every number written in ``claim`` occurs in ``evidence`` (digits or spoken words)."""
    found = _evidence_numbers(evidence)
    return all(n in found for n in numbers_in(claim))


def numbers_preserved(original: str, rewrite: str) -> bool:
    """True when the rewrite keeps every number of the original and adds none."""
    before, after = numbers_in(original), numbers_in(rewrite)
    return set(before) <= set(after) and set(after) <= set(before)


def cited_text(segments: Mapping[int, str], segment_ids: Iterable[int]) -> str | None:
    """The text of the cited segments, or None when nothing is cited or an id does not exist."""
    ids = list(dict.fromkeys(segment_ids))
    if not ids or any(i not in segments for i in ids):
        return None
    return " ".join(segments[i] for i in ids)


def _med_label(med: Medication) -> str:
    return " ".join(p for p in (med.name, med.strength or "") if p).strip()


def _ground_med(med: Medication, evidence: str, missing: str) -> tuple[Medication | None, list[str]]:
    """The medication with unsupported dose fields cleared, or None when its name is not in the evidence."""
    if not (supports_term(evidence, med.name) or (med.verbatim and supports_term(evidence, med.verbatim))):
        return None, [f"Medication “{_med_label(med)}”: {missing}"]
    removed: list[str] = []
    updates: dict[str, None] = {}
    for field in ("strength", "frequency", "duration"):
        value = getattr(med, field)
        if value and not supports_numbers(evidence, value):
            updates[field] = None
            removed.append(f"{field.capitalize()} “{value}” of {med.name}: {missing}")
    return (med.model_copy(update=updates) if updates else med), removed


def ground_medications(
    medications: Sequence[Medication], segments: Mapping[int, str], missing: str = NOT_IN_RECORDING
) -> tuple[list[Medication], list[str]]:
    """Keep medications whose name (and dose numbers) occur in their cited segments."""
    kept: list[Medication] = []
    unsupported: list[str] = []
    for med in medications:
        evidence = cited_text(segments, med.evidence.segment_ids)
        if evidence is None:
            unsupported.append(f"Medication “{_med_label(med)}”: {missing} (no valid citation)")
            continue
        grounded, removed = _ground_med(med, evidence, missing)
        unsupported.extend(removed)
        if grounded is not None:
            kept.append(grounded)
    return kept, unsupported


def ground_text_medications(medications: Sequence[Medication], text: str) -> tuple[list[Medication], list[str]]:
    """Medications read from a document (OCR text): the name and dose numbers must occur in ``text``."""
    kept: list[Medication] = []
    unsupported: list[str] = []
    for med in medications:
        grounded, removed = _ground_med(med, text, NOT_IN_DOCUMENT)
        unsupported.extend(removed)
        if grounded is not None:
            kept.append(grounded)
    return kept, unsupported


def _ground_vitals(vitals: Sequence[CitedFact], segments: Mapping[int, str]) -> tuple[list[CitedFact], list[str]]:
    kept, unsupported = [], []
    for v in vitals:
        evidence = cited_text(segments, v.segment_ids)
        label = f"{v.name} {v.value} {v.unit}".strip()
        if evidence is None or not numbers_in(v.value) or not supports_numbers(evidence, v.value):
            unsupported.append(f"Vital sign “{label}”: {NOT_IN_RECORDING}")
        else:
            kept.append(v)
    return kept, unsupported


def _ground_diagnoses(
    diagnoses: Sequence[CitedFact], segments: Mapping[int, str], synonyms: Mapping[str, Sequence[str]]
) -> tuple[list[CitedFact], list[str]]:
    kept, unsupported = [], []
    for d in diagnoses:
        evidence = cited_text(segments, d.segment_ids)
        names = [d.name, *synonyms.get(fold(d.name).strip(), ())]
        if evidence is not None and any(supports_term(evidence, n) for n in names):
            kept.append(d)
        else:
            unsupported.append(f"Diagnosis “{d.name}”: {NOT_IN_RECORDING}")
    return kept, unsupported


def _mentions(text: str, term: str) -> bool:
    words = _words(term)
    return bool(words) and re.search(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", fold(text)) is not None


def _ground_sentences(
    sentences: Sequence[CitedSentence],
    segments: Mapping[int, str],
    removed_terms: Sequence[str],
    find_drugs: DrugFinder | None,
    what: str,
) -> tuple[list[CitedSentence], list[str]]:
    kept, unsupported = [], []
    for s in sentences:
        evidence = cited_text(segments, s.segment_ids)
        ok = evidence is not None and supports_numbers(evidence, s.text)
        ok = ok and not any(_mentions(s.text, t) for t in removed_terms)
        if ok and find_drugs is not None and evidence is not None:
            named = find_drugs(s.text)
            # "paracetamol" in the sentence is grounded by "Dolo 650" in the segment: compare generic names too
            said = set(find_drugs(evidence)) if named else set()
            ok = all(name in said or supports_term(evidence, name) for name in named)
        if ok:
            kept.append(s)
        else:
            unsupported.append(f"{what} “{s.text}”: {NOT_IN_RECORDING}")
    return kept, unsupported


def ground_draft(
    segments: Sequence[Segment],
    *,
    sentences: Sequence[CitedSentence] = (),
    medications: Sequence[Medication] = (),
    vitals: Sequence[CitedFact] = (),
    diagnoses: Sequence[CitedFact] = (),
    follow_up: Sequence[CitedSentence] = (),
    synonyms: Mapping[str, Sequence[str]] | None = None,
    find_drugs: DrugFinder | None = None,
) -> GroundedDraft:
    """Check a drafted note against its transcript and drop whatever the cited segments do not say.

    Sentences are dropped when they cite no existing segment, carry a number the cited segments lack, name
    a medication or diagnosis that was itself dropped, or (with ``find_drugs``) name a drug not said there.

    Args:
        segments: the transcript the draft was made from.
        sentences, medications, vitals, diagnoses, follow_up: the draft's cited items.
        synonyms: folded diagnosis name -> other names that also ground it ("hypertension" -> "high blood pressure").
        find_drugs: finds drug names in a sentence (the shared medication parser), for the sentence check.
    """
    by_id = {s.id: s.text for s in segments}
    meds, unsupported = ground_medications(medications, by_id)
    kept_vitals, removed = _ground_vitals(vitals, by_id)
    unsupported += removed
    kept_dx, removed = _ground_diagnoses(diagnoses, by_id, synonyms or {})
    unsupported += removed
    kept_names = {fold(m.name) for m in meds}
    removed_terms = [m.name for m in medications if fold(m.name) not in kept_names]
    removed_terms += [d.name for d in diagnoses if d not in kept_dx]
    kept_sentences, removed = _ground_sentences(sentences, by_id, removed_terms, find_drugs, "Statement")
    unsupported += removed
    kept_follow, removed = _ground_sentences(follow_up, by_id, removed_terms, find_drugs, "Follow-up")
    unsupported += removed
    return GroundedDraft(
        sentences=kept_sentences,
        medications=meds,
        vitals=kept_vitals,
        diagnoses=kept_dx,
        follow_up=kept_follow,
        unsupported=list(dict.fromkeys(unsupported)),
    )
