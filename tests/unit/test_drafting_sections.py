"""Where the offline draft puts a clinician's sentence: instructions in Plan, findings in Objective, and every
diagnosis the drafter found in Assessment with its evidence (never one the transcript does not name)."""

from __future__ import annotations

import pytest

from backend.domain.drafting import draft_note, render_note_text
from backend.domain.models import Segment
from backend.domain.note_content import DraftSentence, NoteContent


def segments(*turns: tuple[str, str]) -> list[Segment]:
    return [Segment(id=i, start=2.0 * i, end=2.0 * i + 2, speaker=s, text=t) for i, (s, t) in enumerate(turns)]


def sentence_with(draft: NoteContent, words: str) -> DraftSentence:
    found = [s for s in draft.sentences if words in s.text.lower()]
    assert found, f"no sentence with {words!r} in {[s.text for s in draft.sentences]}"
    return found[0]


HEART_FAILURE_VISIT = segments(
    ("doctor", "Hi, what brings you in today?"),
    ("patient", "My legs have been swelling and I get short of breath."),
    ("doctor", "Okay, let me take a look. I hear some crackles in your lungs and you have pitting edema in both legs."),
    ("doctor", "Your blood pressure is high today and your hypertension is the reason for the fluid."),
    ("doctor", "Keep taking furosemide 40 mg once a day for the swelling in your legs."),
    ("doctor", "Stop the ibuprofen, it makes the swelling worse."),
    ("doctor", "I am going to order an echocardiogram, and come back in two weeks."),
    ("patient", "Okay, thank you."),
)


@pytest.fixture(scope="module")
def heart_draft() -> NoteContent:
    return draft_note(HEART_FAILURE_VISIT)


def test_an_instruction_to_keep_taking_a_medicine_is_plan_even_when_it_names_a_finding(
    heart_draft: NoteContent,
) -> None:
    # "swelling" is an exam cue; the sentence is still an instruction.
    assert sentence_with(heart_draft, "keep taking furosemide").section == "plan"


def test_an_instruction_to_stop_a_medicine_is_plan(heart_draft: NoteContent) -> None:
    assert sentence_with(heart_draft, "stop the ibuprofen").section == "plan"


def test_a_test_to_order_is_plan(heart_draft: NoteContent) -> None:
    assert sentence_with(heart_draft, "echocardiogram").section == "plan"


def test_findings_on_exam_are_objective(heart_draft: NoteContent) -> None:
    assert sentence_with(heart_draft, "crackles").section == "objective"


def test_the_diagnosis_found_opens_the_assessment_with_its_evidence(heart_draft: NoteContent) -> None:
    assert [d.text for d in heart_draft.diagnoses] == ["hypertension"]
    assessment = [s for s in heart_draft.sentences if s.section == "assessment"]
    assert assessment, "a diagnosis was found, so the Assessment must not be empty"
    line = next(s for s in assessment if "hypertension" in s.text.lower())
    assert line.segment_ids == [3]  # the clinician's sentence that names it
    assert "hypertension" in HEART_FAILURE_VISIT[3].text.lower()
    rendered = render_note_text(heart_draft)
    assert rendered.index("ASSESSMENT AND PLAN") < rendered.lower().index("hypertension", rendered.index("ASSESSMENT"))


def test_a_doubtful_diagnosis_is_possible_and_unverified() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "I have been coughing for a week."),
            ("doctor", "On exam your lungs have some wheezing."),
            ("doctor", "This could be asthma, so use the inhaler twice a day."),
        )
    )
    line = next(s for s in draft.sentences if s.section == "assessment" and "asthma" in s.text.lower())
    assert line.text == "Possible asthma." and line.unverified
    assert line.segment_ids == [3]


def test_a_diagnosis_already_in_an_assessment_sentence_is_not_repeated() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "My knee hurts when I walk."),
            ("doctor", "On exam there is tenderness over the joint line."),
            ("doctor", "My impression is osteoarthritis of the right knee."),
            ("doctor", "I would like you to start physical therapy."),
        )
    )
    assessment = [s.text.lower() for s in draft.sentences if s.section == "assessment"]
    assert sum("osteoarthritis" in t for t in assessment) == 1


def test_no_diagnosis_named_leaves_the_assessment_without_one() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "I have a sore throat since Monday."),
            ("doctor", "Let me look. Your throat is red and your tonsils are swollen."),
            ("doctor", "Drink plenty of fluids and come back if it gets worse."),
        )
    )
    assert not [s for s in draft.sentences if s.section == "assessment"]
    assert sentence_with(draft, "drink plenty of fluids").section == "plan"
    assert draft.diagnoses == []


def test_a_condition_only_the_patient_mentions_stays_history() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "My mother had diabetes and I am worried about my sugar."),
            ("doctor", "On exam your abdomen is soft and not tender."),
            ("doctor", "We will check your blood sugar today."),
        )
    )
    assert not [s for s in draft.sentences if s.section == "assessment" and "diabetes" in s.text.lower()]


def test_take_a_deep_breath_during_the_exam_is_not_plan() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "I have had a cough for a week."),
            ("doctor", "Let me listen to your lungs. Take a deep breath for me, I hear some wheezing on the left."),
        )
    )
    assert sentence_with(draft, "wheezing").section == "objective"


def test_a_condition_the_clinician_recalls_while_taking_the_history_is_not_assessed() -> None:
    draft = draft_note(
        segments(
            ("doctor", "What brings you in?"),
            ("patient", "I get dizzy when I stand up."),
            ("doctor", "I see from your chart you were treated for pneumonia last year."),
            ("patient", "Yes, it took a month to get better."),
        )
    )
    assert [d.text for d in draft.diagnoses] == ["pneumonia"]
    assert not [s for s in draft.sentences if s.section == "assessment"]
