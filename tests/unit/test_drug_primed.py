"""Names of the hot-word list that the first pass wrote are heard again before they are drafted (no whisper)."""

from __future__ import annotations

from backend.domain.drafting import draft_note
from backend.domain.medications.primed import MAX_PRIMED, find_primed, hint_names
from backend.domain.medications.recovery import UNCLEAR
from backend.domain.medications.second_pass import second_pass
from backend.domain.models import Segment, Word
from backend.services.scribe_pipeline import draft_transcript


def _segment(text: str, seg_id: int = 0, start: float = 10.0) -> Segment:
    """A segment whose words are its space-separated pieces, 0.3 s each from ``start``."""
    words = [Word(start=start + 0.3 * i, end=start + 0.3 * i + 0.25, text=w) for i, w in enumerate(text.split())]
    return Segment(id=seg_id, start=start, end=start + 0.3 * len(words), text=text, words=words)


def _saying(text: str):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def decode(start: float, end: float, hot: str) -> str:
        calls.append(hot)
        return text

    return decode, calls


def test_brands_and_generics_of_the_hot_word_list_are_checked() -> None:
    names = hint_names()
    assert names["pantocid"] == ("pantoprazole", True) and names["dolo"] == ("paracetamol", True)
    assert names["metformin"] == ("metformin", False)
    assert "ibuprofen" not in names  # not on the list: Whisper was not primed with it
    segs = [_segment("I take Pantocid every morning, and metformin.", 0), _segment("and ibuprofen.", 1, 30.0)]
    assert [(w.segment_id, w.heard) for w in find_primed(segs)] == [(0, "Pantocid"), (0, "metformin")]


def test_past_the_limit_brands_are_heard_again_before_generics() -> None:
    generics = ", ".join(["metformin"] * MAX_PRIMED)
    segs = [_segment(f"I take {generics}.", 0), _segment("and Pantocid.", 1, 30.0)]
    primed = find_primed(segs)
    assert len(primed) == MAX_PRIMED
    assert [w.heard for w in primed] == ["metformin"] * (MAX_PRIMED - 1) + ["Pantocid"]  # still in time order


def test_a_generic_written_over_other_words_is_not_drafted() -> None:
    # MTS-Dialog: a closing "Great!" came out "Ciprofloxacin, rate." from a first pass primed with the list
    seg = _segment("Ciprofloxacin, rate.")
    answers = iter(["Ciprofloxacin, ciprofloxacin, ciprofloxacin, pyridoxine, pyridoxine.", "Great."])
    calls: list[str] = []

    def decode(start: float, end: float, hot: str) -> str:
        calls.append(hot)
        return next(answers)

    (found,) = second_pass([seg], decode, duration=40.0)
    assert (found.heard, found.drug) == ("Ciprofloxacin", UNCLEAR)
    assert len(calls) == 2  # the first listen read its names out: heard once more, with fewer names
    assert "ciprofloxacin" in calls[1]  # the name itself was offered: a name truly said is heard again
    result = draft_transcript([seg], draft_note, [found])
    assert result.content.medications == []
    assert result.segments[0].text == seg.text


def test_a_generic_heard_again_stands() -> None:
    seg = _segment("continue the metformin 500 mg twice a day.")
    decode, _ = _saying("continue the metformin 500 mg twice a day")
    assert second_pass([seg], decode, duration=20.0) == []
    (med,) = draft_transcript([seg], draft_note).content.medications
    assert med.name.lower() == "metformin"


def test_a_brand_heard_again_stands() -> None:
    seg = _segment("I take Pantocid every morning.")
    decode, calls = _saying("I take Pantocid every morning.")
    assert second_pass([seg], decode, duration=20.0) == []
    assert len(calls) == 1 and "Pantocid" in calls[0] and len(calls[0]) < 200  # the brand itself is offered


def test_a_brand_heard_as_another_drug_is_that_drug_unverified() -> None:
    seg = _segment("for the heartburn I take Pantocid. at night")
    decode, _ = _saying("for the heartburn I take Pepcid at night")
    (found,) = second_pass([seg], decode, duration=20.0)
    assert (found.heard, found.drug) == ("Pantocid", "famotidine")
    result = draft_transcript([seg], draft_note, [found])
    (med,) = result.content.medications
    assert med.name.lower() == "famotidine" and not med.verified and med.heard_as == "Pantocid"
    assert result.segments[0].text == seg.text  # the transcript keeps what was first heard


def test_a_brand_heard_again_as_no_drug_is_not_drafted() -> None:
    seg = _segment("you have a history of Ecosprin on your arms, take a look")
    decode, _ = _saying("you have a history of eczema on your arms")
    (found,) = second_pass([seg], decode, duration=20.0)
    assert (found.heard, found.drug) == ("Ecosprin", UNCLEAR)
    result = draft_transcript([seg], draft_note, [found])
    assert result.content.medications == []
    assert [(r.heard, r.drug) for r in result.content.provenance.recovered_names] == [("Ecosprin", UNCLEAR)]


def test_a_recheck_that_reads_out_its_prompt_changes_nothing() -> None:
    seg = _segment("I have been taking Budecort twice a day.")
    decode, calls = _saying("Medicines: Budecort, budesonide, Pulmicort, Symbicort.")
    assert second_pass([seg], decode, duration=20.0) == []
    assert len(calls) == 2  # once more with fewer names, then left as first heard
