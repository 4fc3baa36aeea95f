"""The transcript on the review screen marks each recovered drug name where it was heard."""

from __future__ import annotations

from backend.domain.medications.recovery import UNCLEAR
from backend.domain.note_content import RecoveredName
from ui.note_transcript import NOT_HEARD_AGAIN, _heard


def test_a_recovered_name_is_offered_as_heard_and_a_brand_not_heard_again_says_so() -> None:
    text = "you are on list in april and ecosprin for that"
    shown = _heard(
        text,
        [
            RecoveredName(segment_id=1, heard="list in april", drug="lisinopril"),
            RecoveredName(segment_id=1, heard="ecosprin", drug=UNCLEAR),
        ],
        set(),
    )
    assert ":violet[list in april]** :violet[→ lisinopril?]" in shown  # unconfirmed: a question
    assert f":violet[ecosprin]** :violet[{NOT_HEARD_AGAIN}]" in shown
    assert UNCLEAR not in shown  # never "→ (unclear)", which reads like a drug called "(unclear)"


def test_a_confirmed_name_loses_its_question_mark() -> None:
    shown = _heard(
        "take list in april daily",
        [RecoveredName(segment_id=1, heard="list in april", drug="lisinopril")],
        {("lisinopril", "list in april")},
    )
    assert ":violet[→ lisinopril]" in shown
