"""Recovered drug names stored with a note are found again in its transcript, so a redraft keeps them."""

from __future__ import annotations

from backend.domain.medications.recovery import Recovery
from backend.domain.medications.recovery_kept import recoveries_again
from backend.domain.medications.second_pass import write_in
from backend.domain.models import Segment
from backend.domain.note_content import RecoveredName

SEGMENTS = [
    Segment(id=0, start=0.0, end=3.0, text="Let's continue on the project 20 milligrams a day."),
    Segment(id=1, start=3.0, end=6.0, text="Refill the project, and the project for her too."),
]


def test_a_stored_name_comes_back_at_its_words_and_is_written_in_for_drafting() -> None:
    names = [RecoveredName(segment_id=0, heard="project", drug="fluoxetine", score=0.71)]
    again = recoveries_again(SEGMENTS, names)
    assert again == [Recovery(0, "project", "fluoxetine", 22, 29, 0.71)]
    assert write_in(SEGMENTS, again)[0].text == "Let's continue on the fluoxetine 20 milligrams a day."


def test_the_same_words_twice_in_a_segment_are_taken_in_turn() -> None:
    names = [RecoveredName(segment_id=1, heard="project", drug="fluoxetine")] * 2
    assert [(r.start, r.end) for r in recoveries_again(SEGMENTS, names)] == [(11, 18), (28, 35)]
    assert write_in(SEGMENTS, recoveries_again(SEGMENTS, names))[1].text == (
        "Refill the fluoxetine, and the fluoxetine for her too."
    )


def test_names_whose_segment_or_words_are_gone_are_left_out() -> None:
    names = [
        RecoveredName(segment_id=7, heard="project", drug="fluoxetine"),  # no such turn any more
        RecoveredName(segment_id=0, heard="list in April", drug="lisinopril"),  # not in the text (edited)
        RecoveredName(segment_id=0, heard="", drug="lisinopril"),
    ]
    assert recoveries_again(SEGMENTS, names) == []
