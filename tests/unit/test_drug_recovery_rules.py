"""Rules that keep speech recovery of drug names precise on consultations it was not tuned on."""

from __future__ import annotations

from backend.domain.medications.recovery import recover_drug_names
from backend.domain.medications.second_pass import accept, candidates, find_stretches
from backend.domain.models import Segment, Word


def _segment(text: str, seg_id: int = 0, start: float = 10.0) -> Segment:
    """A segment whose words are its space-separated pieces, 0.3 s each from ``start``."""
    words = [Word(start=start + 0.3 * i, end=start + 0.3 * i + 0.25, text=w) for i, w in enumerate(text.split())]
    return Segment(id=seg_id, start=start, end=start + 0.3 * len(words), text=text, words=words)


def _recovered(text: str) -> list[tuple[str, str]]:
    return [(r.heard, r.drug) for r in recover_drug_names([_segment(text)]).recoveries]


def test_an_english_word_with_no_strength_after_it_needs_a_name_that_sounds_clearly_like_it() -> None:
    stretch = find_stretches([_segment("you should take advantage of the quiet week")])[0]
    assert stretch.heard == "advantage" and not stretch.dosed
    assert accept(stretch, "you should take Ativan of the quiet week", candidates("advantage")) is None
    # With a strength after it, the audio says a drug is there: the usual bar holds.
    dosed = next(
        s for s in find_stretches([_segment("order proteins 40 milligrams once a day")]) if s.heard == "proteins"
    )
    got = accept(dosed, "order Protonix 40 milligrams once a day", candidates("proteins"))
    assert got is not None and got.drug == "pantoprazole"


def test_a_word_that_ends_several_drug_names_is_not_guessed_between_them() -> None:
    # "metasone" ends mometasone, betamethasone and dexamethasone: its first sounds were heard as another word.
    assert _recovered("we will avoid the next metasone cream twice a day") == []
    # A made-up word that ends no other name is still recovered.
    assert _recovered("increase the lysinoprol to 20 mg a day") == [("lysinoprol", "lisinopril")]


def test_a_longer_name_containing_a_corrected_one_is_recovered_without_a_cue() -> None:
    # "prednisolong" is read as prednisolone anyway; with "methyl" before it the name said was longer.
    assert _recovered("she came out in hives after the methyl prednisolong") == [
        ("methyl prednisolong", "methylprednisolone")
    ]
    # No cue and nothing the parser corrects: ordinary words stay as they are.
    assert _recovered("she came out in hives after the methyl pond") == []


def test_office_injection_names_are_on_the_recovery_list() -> None:
    assert _recovered("we could try a cardisone injection into the tendon sheath") == [("cardisone", "cortisone")]


def test_an_english_word_before_a_strength_said_in_words_keeps_the_usual_bar() -> None:
    stretch = find_stretches([_segment("we will continue the project, twenty milligrams a day")])[0]
    assert stretch.heard == "project" and stretch.strength_after
    got = accept(stretch, "we will continue the Prozac, twenty milligrams a day", candidates("project"))
    assert got is not None and got.drug == "fluoxetine"


def test_a_strength_in_the_segment_that_follows_at_once_counts() -> None:
    first = _segment("we will continue the project,", start=10.0)
    then = _segment("20 milligrams a day", seg_id=1, start=first.end + 0.1)
    stretch = find_stretches([first, then])[0]
    assert stretch.heard == "project" and stretch.strength_after
