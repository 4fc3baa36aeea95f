"""Drug names misheard by speech recognition come back for drafting, only where the context says medication."""

from __future__ import annotations

import pytest

from backend.domain.drafting import draft_note
from backend.domain.medications import lookup_name
from backend.domain.medications.lexicon import DATA_DIR
from backend.domain.medications.recovery import Recovered, is_english_word, recover_drug_names
from backend.domain.models import Segment
from backend.services.scribe_pipeline import draft_transcript


def _segments(*texts: str) -> list[Segment]:
    return [Segment(id=i, start=float(i), end=float(i + 1), text=t) for i, t in enumerate(texts)]


def _recover(*texts: str) -> Recovered:
    return recover_drug_names(_segments(*texts))


@pytest.mark.parametrize(
    ("heard", "words", "drug"),
    [
        ("continue the list in April 20 mg a day", "list in April", "lisinopril"),
        ("increase the fur oh semide to 40 mg", "fur oh semide", "furosemide"),
        ("take oh me pra zole 20 mg in the morning", "oh me pra zole", "omeprazole"),
        ("we can prescribe you mellow xi cam 15 mg once a day", "mellow xi cam", "meloxicam"),
        ("use the flu tick a zone spray twice a day", "flu tick a zone", "fluticasone"),
        ("I'd like to increase the lysinoprol from 10mg to 20mg a day", "lysinoprol", "lisinopril"),
    ],
)
def test_a_misheard_name_in_medication_context_is_recovered(heard: str, words: str, drug: str) -> None:
    recovered = _recover(heard)
    assert [(r.heard, r.drug) for r in recovered.recoveries] == [(words, drug)]
    r = recovered.recoveries[0]
    assert heard[r.start : r.end] == words  # offsets point into the text as heard
    assert drug in recovered.segments[0].text and words not in recovered.segments[0].text
    assert 0.0 < r.score <= 1.0


def test_a_brand_heard_wrong_is_written_as_the_brand_and_named_by_its_generic() -> None:
    recovered = _recover("I want to increase your lassox to 80 mg once a day.")
    assert [(r.heard, r.drug) for r in recovered.recoveries] == [("lassox", "furosemide")]
    assert recovered.segments[0].text == "I want to increase your Lasix to 80 mg once a day."


def test_the_context_may_be_in_the_turn_before() -> None:
    recovered = _recover("And are you taking any medications for that?", "Yes, I take digaxin.")
    assert [(r.segment_id, r.heard, r.drug) for r in recovered.recoveries] == [(1, "digaxin", "digoxin")]


@pytest.mark.parametrize(
    "heard",
    [
        "I made a list in April of the things to do around the house.",  # no medication context
        "so the flu tick a zone of the map was wrong",
        "my neighbour lassox came over on the weekend",
    ],
)
def test_without_medication_context_nothing_is_recovered(heard: str) -> None:
    recovered = _recover(heard)
    assert recovered.recoveries == []
    assert recovered.segments[0].text == heard


@pytest.mark.parametrize(
    "heard",
    [
        "Tell me a little bit about the medications you take.",  # "tell me a" ~ Telma
        "As long as you take it twice a day, that's fine.",  # "as long" ~ Amlong
        "I'm alive, and I take my pills every day.",  # "alive" ~ Aleve: one English word is never replaced
        "You can trace to one of the pills you take.",  # "trace to one" ~ trazodone
        "We'll look at the chest x-ray and the mitral valve before we start the medication.",
        "Your blood pressure is fine on the medication.",  # "blood pressure" ~ Lopressor
        "You're on the project for 20 milligrams a day.",  # an English word stays what was heard
    ],
)
def test_ordinary_phrases_in_medication_talk_are_not_changed(heard: str) -> None:
    recovered = _recover(heard)
    assert recovered.recoveries == []
    assert recovered.segments[0].text == heard


@pytest.mark.parametrize(
    "heard",
    ["Take ferrous sulfate 325 mg daily.", "Continue metformin 500 mg twice a day.", "Refill the Tylenol, please."],
)
def test_names_already_known_are_left_alone(heard: str) -> None:
    assert _recover(heard).recoveries == []


def test_the_segments_given_are_not_changed() -> None:
    segments = _segments("continue the list in April 20 mg a day")
    recover_drug_names(segments)
    assert segments[0].text == "continue the list in April 20 mg a day"


def test_a_recovered_name_is_drafted_with_its_fields_and_marked_unverified() -> None:
    segments = _segments("Okay, so for your blood pressure, continue the list in April 20 mg a day.")
    result = draft_transcript(segments, draft_note)
    assert result.segments[0].text == segments[0].text  # the transcript keeps what was heard
    med = next(m for m in result.content.medications if m.name == "lisinopril")
    assert med.strength == "20 mg"
    assert med.found_by == "sounds_like" and med.heard_as == "list in April" and not med.verified


def test_every_listed_drug_is_known_to_the_parser() -> None:
    names = [
        line.split("#", 1)[0].strip()
        for line in (DATA_DIR / "recovery_drugs.txt").read_text(encoding="utf-8").splitlines()
    ]
    unknown = [n for n in names if n and lookup_name(n, correct=False) is None]
    assert unknown == []


def test_english_words_are_told_from_misheard_names() -> None:
    assert is_english_word("April") and is_english_word("alive")
    assert not is_english_word("lassox") and not is_english_word("digaxin")


def test_the_context_reaches_across_short_pieces_of_turns() -> None:
    # Role assignment may cut turns into pieces of a few words at each change of voice.
    recovered = _recover("Are you taking", "any medications", "for that?", "Yeah, I am,", "uh, digaxin.")
    assert [(r.segment_id, r.drug) for r in recovered.recoveries] == [(4, "digoxin")]


def test_a_name_glued_to_a_dictation_word_is_recovered_without_it() -> None:
    # "hey dragon, order lisinopril" heard with "order" glued on: the name alone is the heard words.
    text = "hey dragon, orderlisinopril 20 milligrams once a day"
    recovered = _recover(text)
    assert [(r.heard, r.drug) for r in recovered.recoveries] == [("lisinopril", "lisinopril")]
    assert text[recovered.recoveries[0].start : recovered.recoveries[0].end] == "lisinopril"
    assert recovered.segments[0].text == "hey dragon, order lisinopril 20 milligrams once a day"  # for drafting
    # An English word that starts with "order" stays whole.
    assert _recover("the orderly gave 20 mg").recoveries == []


def test_a_name_that_swallowed_a_number_is_not_drafted() -> None:
    # Said "we were struggling with it like six months ago"; heard "... with it, Lasix months ago".
    recovered = _recover("I know we were kinda struggling with it, Lasix months ago, how are you doing?")
    assert "Lasix" not in recovered.segments[0].text and recovered.recoveries == []
    content = draft_note(recovered.segments)
    assert content.medications == []
    # A name with its number, or followed by other words, is drafted as said.
    kept = _recover("we started the Lasix 6 months ago", "you have been on Lasix for months")
    assert [s.text for s in kept.segments] == ["we started the Lasix 6 months ago", "you have been on Lasix for months"]


def test_a_name_taken_back_for_another_is_not_drafted() -> None:
    recovered = _recover("we'll treat you with penicillin or, I'm sorry, amoxicillin, 500 milligrams three times a day")
    content = draft_note(recovered.segments)
    assert [m.name for m in content.medications] == ["amoxicillin"]
    # Two names said one after the other are both drafted ("sorry" about something else is no repair).
    both = draft_note(_recover("take the metformin and the lisinopril daily, sorry about the wait").segments)
    assert sorted(m.name for m in both.medications) == ["lisinopril", "metformin"]


@pytest.mark.parametrize(
    ("heard", "words", "drug"),
    [
        # A name the recogniser does not know is spelt as it sounds: ph for f, k for c, one letter for two.
        ("I also want to prescribe something called keraphate, one gram four times a day", "keraphate", "sucralfate"),
        ("we will put you on some approsin twice a day with food", "approsin", "naproxen"),
    ],
)
def test_a_name_spelt_as_it_sounds_is_recovered(heard: str, words: str, drug: str) -> None:
    assert [(r.heard, r.drug) for r in _recover(heard).recoveries] == [(words, drug)]


def test_a_word_written_in_hyphenated_pieces_is_one_word() -> None:
    # "prisk" alone sounds like Prozac; "prisk-ribe" is prescribe heard in pieces, and no piece is a name.
    assert [r.drug for r in _recover("I want you to take prisk 20 mg a day").recoveries] == ["fluoxetine"]
    assert _recover("I'm going to prisk-ribe you something, 20 mg a day").recoveries == []


def test_lengths_are_compared_as_the_words_sound() -> None:
    # Five letters, four sounds ("roops"): too short to be a six-sound brand, whatever the context.
    assert _recover("the nerve roops are squeezed, take it 50 mg a day").recoveries == []


def test_a_slot_phrase_counts_only_just_before_the_heard_words() -> None:
    # "been on" says a name comes next; ten words later it says nothing ("tambien" is Spanish, not Ambien).
    assert _recover("how much pain have you been on a scale of one to ten, and with tambien").recoveries == []
    assert [r.drug for r in _recover("she has been on the tambien for years").recoveries] == ["zolpidem"]


def test_a_name_later_in_a_list_has_the_lists_cue() -> None:
    # The slot phrase comes before the first name only; the second is joined to it by "and some".
    found = _recover("so I'm gonna put you on some approsin, and some flexural, and we'll see").recoveries
    assert [(r.heard, r.drug) for r in found] == [("approsin", "naproxen"), ("flexural", "cyclobenzaprine")]
    # after a name the parser knows, too
    assert [r.drug for r in _recover("I'm gonna give you meloxicam and some flexural").recoveries] == [
        "cyclobenzaprine"
    ]
    # a name near a drug, but not listed with it, still needs a cue of its own
    assert _recover("the meloxicam helped my knee but the flexural stiffness is there").recoveries == []


def test_an_english_word_is_a_brand_only_where_a_name_goes_and_sounding_as_it() -> None:
    found = _recover("for the asthma, maybe we can try some singular, one tablet at night").recoveries
    assert [(r.heard, r.drug) for r in found] == [("singular", "montelukast")]
    assert [r.drug for r in _recover("we will get you started on the singular").recoveries] == ["montelukast"]
    # the same word with medication talk around it but no slot for a name: the English word stays
    assert _recover("that is a singular case, take 10 mg a day").recoveries == []
    # after a slot, an English word that only sounds somewhat like a brand stays ("brilliant", Brilinta)
    assert _recover("you're on a brilliant path, keep taking the tablets").recoveries == []
