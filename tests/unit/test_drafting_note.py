"""draft_note end to end: evidence on every sentence, nothing invented, structured fields."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from backend.domain.drafting import draft_note, render_note_text
from backend.domain.models import Medication, Note, Segment
from backend.domain.note_content import CitedText, NoteContent


@dataclass
class Mention:
    start: int
    end: int
    medication: Medication


class TinyDrugParser:
    """An honest small stand-in for the shared parser: knows two drugs, reads a strength right after the name."""

    KNOWN = ("lisinopril", "metformin")

    def __call__(self, text: str) -> list[Mention]:
        found = []
        for m in re.finditer(r"\b(" + "|".join(self.KNOWN) + r")\b(?:\s+(\d+)\s*(?:mg|milligrams))?", text, re.I):
            strength = f"{m.group(2)} mg" if m.group(2) else None
            med = Medication(name=m.group(1).lower(), verbatim=m.group(1), strength=strength, verified=True)
            found.append(Mention(m.start(1), m.end(1), med))
        return found


def segments(*turns: tuple[str, str]) -> list[Segment]:
    return [Segment(id=i, start=2.0 * i, end=2.0 * i + 2, speaker=s, text=t) for i, (s, t) in enumerate(turns)]


VISIT = segments(
    ("doctor", "Hi, what brings you in today?"),
    ("patient", "I've had a cough for about a week and I feel really tired."),
    ("doctor", "Have you had any fever or chills?"),
    ("patient", "No."),
    ("doctor", "Any chest pain?"),
    ("patient", "No chest pain, but I do get short of breath on the stairs."),
    ("doctor", "Your blood pressure today is one forty over ninety and your pulse is eighty eight."),
    ("doctor", "On exam, your lungs have some wheezing on the left side."),
    ("doctor", "I think this is most likely bronchitis."),
    ("doctor", "I want you to stop the lisinopril because it can cause a cough."),
    ("doctor", "We'll start you on metformin 500 milligrams for your sugars."),
    ("doctor", "Come back in two weeks so we can recheck your blood pressure."),
    ("patient", "Okay, thank you."),
)


@pytest.fixture(scope="module")
def visit_draft() -> NoteContent:
    return draft_note(VISIT, extract_medications=TinyDrugParser())


def test_every_sentence_names_existing_segments(visit_draft: NoteContent) -> None:
    ids = {s.id for s in VISIT}
    assert visit_draft.sentences
    for sentence in visit_draft.sentences:
        assert sentence.segment_ids, sentence.text
        assert set(sentence.segment_ids) <= ids


def test_sections_are_soap_and_hold_the_sentences(visit_draft: NoteContent) -> None:
    assert set(visit_draft.sections) == {"subjective", "objective", "assessment", "plan"}
    assert "cough" in visit_draft.sections["subjective"]
    assert "wheezing" in visit_draft.sections["objective"]
    assert "Follow up in 2 weeks." in visit_draft.sections["plan"]


def test_denied_and_reported_symptoms(visit_draft: NoteContent) -> None:
    symptoms = {s.name: s.present for s in visit_draft.symptoms}
    assert symptoms["fever"] is False
    assert symptoms["chills"] is False
    assert symptoms["chest pain"] is False
    assert symptoms["cough"] is True
    assert symptoms["shortness of breath"] is True
    fever = next(s for s in visit_draft.symptoms if s.name == "fever")
    assert fever.segment_ids == [2, 3]  # the question and the answer


def test_vitals_with_evidence(visit_draft: NoteContent) -> None:
    vitals = {v.kind: v for v in visit_draft.vitals}
    assert vitals["bp"].value == "140/90" and vitals["bp"].plausible is True
    assert vitals["hr"].value == "88"
    assert vitals["bp"].segment_ids == [6]


def test_chief_complaint_and_follow_up(visit_draft: NoteContent) -> None:
    assert visit_draft.chief_complaint == CitedText(text="cough", segment_ids=[1])
    assert visit_draft.follow_up == CitedText(text="in 2 weeks", segment_ids=[11])


def test_diagnosis_said_as_likely_is_unverified(visit_draft: NoteContent) -> None:
    (bronchitis,) = [d for d in visit_draft.diagnoses if d.text == "bronchitis"]
    assert bronchitis.certainty == "possible" and bronchitis.unverified is True
    assert bronchitis.segment_ids == [8]


def test_medication_statuses_and_evidence(visit_draft: NoteContent) -> None:
    meds = {m.name: m for m in visit_draft.medications}
    assert set(meds) == {"lisinopril", "metformin"}
    assert meds["lisinopril"].status == "stopped"
    assert meds["lisinopril"].evidence.segment_ids == [9]
    assert meds["metformin"].status == "started"
    assert meds["metformin"].strength == "500 mg"


def test_no_drugs_in_transcript_no_medications() -> None:
    draft = draft_note(
        segments(
            ("doctor", "How is the knee?"),
            ("patient", "It still hurts when I climb stairs, about a six out of ten."),
            ("doctor", "There is tenderness on the medial side. Keep icing it and rest."),
        ),
        extract_medications=TinyDrugParser(),
    )
    assert draft.medications == []
    assert "mg" not in render_note_text(draft)


def test_implausible_vital_is_flagged_unverified() -> None:
    draft = draft_note(segments(("doctor", "Your heart rate is three hundred, let me recheck that.")))
    (vital,) = draft.vitals
    assert vital.plausible is False and "25-250" in vital.reason
    assert any(s.unverified and s.kind == "vitals" for s in draft.sentences)
    assert "[unverified]" in render_note_text(draft)


def test_sentences_only_use_words_of_the_transcript(visit_draft: NoteContent) -> None:
    spoken = {w for s in VISIT for w in re.findall(r"[a-z]+", s.text.lower())}
    # Words the drafter itself may write: the patient's pronouns, headings of findings, and spelled-out forms.
    allowed = {"the", "patient", "they", "them", "their", "she", "he", "her", "his", "him", "is", "has", "does", "not",
               "denies", "reports", "follow", "up", "in", "will", "are", "am", "going", "to", "blood", "pressure",
               "heart", "rate", "mmhg", "bpm", "would", "have", "gets", "feels", "wants"}  # fmt: skip
    for sentence in visit_draft.sentences:
        extra = set(re.findall(r"[a-z]+", sentence.text.lower())) - spoken - allowed
        assert not extra, (sentence.text, extra)


def test_draft_content_fits_a_note(visit_draft: NoteContent) -> None:
    note = Note(patient_id="PAT_00000001").with_content(visit_draft)
    stored = Note.model_validate(json.loads(note.model_dump_json()))
    assert stored.sentences[0].segment_ids and stored.content == visit_draft
    assert note.medications[0].evidence.segment_ids


def test_render_has_headings(visit_draft: NoteContent) -> None:
    text = render_note_text(visit_draft)
    for heading in ("CHIEF COMPLAINT", "HISTORY OF PRESENT ILLNESS", "REVIEW OF SYSTEMS", "PHYSICAL EXAM"):
        assert heading in text
    assert "ASSESSMENT AND PLAN" in text


def test_segments_split_mid_sentence_keep_both_ids() -> None:
    draft = draft_note(
        [
            Segment(id=7, start=0, end=2, speaker="patient", text="I have had a bad headache"),
            Segment(id=8, start=2, end=4, speaker="patient", text="for three days and some nausea."),
        ]
    )
    (sentence,) = [s for s in draft.sentences if "headache" in s.text and s.kind == "hpi"]
    assert sentence.segment_ids == [7, 8]


def test_empty_transcript_gives_empty_draft() -> None:
    draft = draft_note([])
    assert draft.sentences == [] and render_note_text(draft) == ""
