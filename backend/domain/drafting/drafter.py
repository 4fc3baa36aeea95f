"""``draft_note``: transcript segments -> a SOAP draft (``NoteContent``) whose every sentence names its evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backend.domain.drafting import facts
from backend.domain.drafting.assessment import diagnosis_sentences
from backend.domain.drafting.compose import _answer_polarity, candidates, guess_sex, select
from backend.domain.drafting.meds import find_medications
from backend.domain.drafting.negation import find_symptoms
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.drafting.text import Pronouns
from backend.domain.drafting.units import Unit, build_units
from backend.domain.drafting.vitals import find_vitals
from backend.domain.models import Segment
from backend.domain.note_content import (
    KIND_SECTION,
    SOAP_SECTIONS,
    DraftSentence,
    NoteContent,
    Speakers,
    Symptom,
    Vital,
)

# The note keeps about this share of the words spoken (ACI-Bench reference notes: ~1/3 of the dialogue;
# 0.35 scored best on its train split).
LENGTH_RATIO = 0.35
MIN_WORDS, MAX_WORDS = 150, 650
VITAL_LABELS = {
    "bp": "Blood pressure", "hr": "Heart rate", "temperature": "Temperature", "spo2": "Oxygen saturation",
    "rr": "Respiratory rate", "weight": "Weight", "glucose": "Blood glucose",
}  # fmt: skip


def _symptoms(units: list[Unit]) -> list[Symptom]:
    """Symptoms with presence, merged by name (an affirmed mention wins over a denial: it must be seen)."""
    merged: dict[str, Symptom] = {}

    def add(name: str, present: bool, ids: list[int]) -> None:
        item = merged.setdefault(name, Symptom(name=name, present=present))
        if present and not item.present:
            item.present, item.segment_ids = True, []
        if present == item.present:
            item.segment_ids.extend(s for s in ids if s not in item.segment_ids)

    for i, unit in enumerate(units):
        if unit.question:
            nxt = units[i + 1] if i + 1 < len(units) else None
            if unit.speaker != "patient" and nxt is not None and nxt.speaker == "patient":
                polarity = _answer_polarity(nxt)
                if polarity is not None:
                    for f in find_symptoms(unit.norm):
                        if not f.hypothetical:
                            add(f.name, f.present and polarity == "yes", unit.segment_ids + nxt.segment_ids)
            continue
        for f in find_symptoms(unit.norm):
            if not f.hypothetical:
                add(f.name, f.present, unit.segment_ids)
    return list(merged.values())


def _vitals(units: list[Unit]) -> list[Vital]:
    found: list[Vital] = []
    for unit in units:
        if unit.question:
            continue
        for v in find_vitals(unit.norm):
            reason = "" if v.plausible else v.reason
            found.append(Vital(kind=v.kind, value=v.value, unit=v.unit, plausible=v.plausible, reason=reason,
                               segment_ids=list(unit.segment_ids)))  # fmt: skip
    return found


def draft_note(
    segments: Sequence[Segment],
    *,
    max_words: int | None = None,
    extract_medications: Callable[[str], list[Any]] | None = None,
) -> NoteContent:
    """Draft a SOAP note from a consultation transcript, offline and by rules.

    Nothing is added that the transcript does not say: sentences are the speakers' own, rewritten to the third
    person; medications come only from the shared medication parser; doubtful items are marked unverified.

    Args:
        segments: transcript segments in time order, with speakers when known.
        max_words: length budget of the narrative (default: ~30% of the words spoken).
        extract_medications: ``extract_mentions``-compatible function (default: ``backend.domain.medications``).

    Returns:
        The draft's content (what a ``Note`` stores besides its record fields).
    """
    units = build_units(segments)
    if not units:
        return NoteContent()
    pronouns = Pronouns.for_sex(guess_sex(units))
    spoken = sum(len(u.raw.split()) for u in units)
    budget = max_words or max(MIN_WORDS, min(MAX_WORDS, int(spoken * LENGTH_RATIO)))

    sentences: list[DraftSentence] = []
    complaint = facts.chief_complaint(units)
    if complaint:
        text = complaint.text[0].upper() + complaint.text[1:] + "."
        sentences.append(DraftSentence(section="subjective", kind="chief_complaint", text=text,
                                       segment_ids=list(complaint.segment_ids)))  # fmt: skip
    vitals = _vitals(units)
    for v in vitals:
        text = f"{VITAL_LABELS[v.kind]}: {v.value} {v.unit}."
        sentences.append(DraftSentence(section="objective", kind="vitals", text=text, segment_ids=list(v.segment_ids),
                                       unverified=not v.plausible))  # fmt: skip
    first_said = len(sentences)  # the diagnosis lines open the Assessment, as a clinician's problem list does
    said = candidates(units, pronouns)
    for cand in select(said, budget):
        sentences.append(DraftSentence(section=KIND_SECTION[cand.kind], kind=cand.kind, text=cand.text,
                                       segment_ids=cand.segment_ids, unverified=cand.unverified))  # fmt: skip
    found = facts.diagnoses(units)
    sentences[first_said:first_said] = diagnosis_sentences(found, sentences, said)
    lexicon = diagnosis_lexicon()
    for sentence in sentences:  # the transcript is read lower-cased: "possible GERD", not "possible gerd"
        sentence.text = lexicon.restore_case(sentence.text)
    follow_up = facts.follow_up(units)
    if follow_up:
        sentences.append(DraftSentence(section="plan", kind="plan", text=f"Follow up {follow_up.text}.",
                                       segment_ids=list(follow_up.segment_ids)))  # fmt: skip

    return NoteContent(
        sections={
            name: " ".join(s.text for s in sentences if s.section == name and s.kind != "chief_complaint")
            for name in SOAP_SECTIONS
        },
        sentences=sentences,
        chief_complaint=complaint,
        symptoms=_symptoms(units),
        vitals=vitals,
        diagnoses=found,
        allergies=facts.allergies(units),
        follow_up=follow_up,
        medications=find_medications(units, extract_medications),
        speakers=Speakers(patient_pronoun=pronouns.subject),
    )
