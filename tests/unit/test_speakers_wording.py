"""Role cues from the words of a turn, and roles of a typed transcript from wording alone."""

from __future__ import annotations

from backend.domain.models import Segment
from backend.domain.speakers import roles_from_wording
from backend.domain.speakers.assign import name_voices
from backend.domain.speakers.wording import sequence_roles, turn_score


def test_clinician_cues_score_positive() -> None:
    for text in (
        "How long have you had the pain?",
        "Let's get a chest x-ray.",
        "I want you to take a deep breath.",
        "I'm going to prescribe lisinopril 10 milligrams once a day.",
    ):
        assert turn_score(text) > 0, text


def test_patient_cues_score_negative() -> None:
    for text in (
        "I have a headache every morning.",
        "My knee hurts when I walk.",
        "Yeah, it hurts here.",
        "I feel tired.",
    ):
        assert turn_score(text) < 0, text


def test_no_cue_scores_zero() -> None:
    assert turn_score("The weather.") == 0


def test_a_typed_transcript_alternates_and_follows_the_words() -> None:
    lines = [
        "Good morning, what brings you in today?",
        "I have had a cough for two weeks.",
        "Any fever?",
        "No, but my chest feels tight.",
        "Let's listen to your lungs. Take a deep breath.",
        "Okay.",
    ]
    segs = [Segment(id=i, start=0.0, end=0.0, text=t) for i, t in enumerate(lines)]
    got = roles_from_wording(segs).segments
    assert [s.speaker for s in got] == ["clinician", "patient"] * 3
    assert {s.role_source for s in got} == {"wording"}


def test_a_tagged_line_keeps_its_tag() -> None:
    segs = [Segment(id=0, start=0, end=0, text="I have a rash.", speaker="clinician", role_source="tag")]
    assert roles_from_wording(segs).segments[0].speaker == "clinician"


def test_sequence_prior_carries_a_turn_with_no_cue() -> None:
    assert sequence_roles(["Do you smoke?", "Never.", "Do you drink?"]) == ["clinician", "patient", "clinician"]


def test_voices_are_named_by_all_their_turns() -> None:
    roles, clear = name_voices(
        {
            0: ["I have a pain in my back.", "It hurts when I bend.", "Yes."],
            1: ["Where does it hurt?", "Let's examine your spine.", "I'm going to prescribe ibuprofen."],
        }
    )
    assert roles == {0: "patient", 1: "clinician"}
    assert clear


def test_a_third_voice_is_other_and_unclear_naming_is_flagged() -> None:
    roles, _ = name_voices({0: ["Do you smoke?"], 1: ["She told me."], 2: ["My chest hurts.", "I have a cough."]})
    assert roles == {0: "clinician", 1: "other", 2: "patient"}  # of the rest, who says most is the patient
    _, clear = name_voices({0: ["Fine."], 1: ["Fine."]})
    assert not clear
