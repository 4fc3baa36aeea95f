"""Brands of the hot-word list that the first pass wrote are heard again before they are drafted (no whisper)."""

from __future__ import annotations

from backend.domain.drafting import draft_note
from backend.domain.medications.primed import find_primed, prompt_brands
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


def test_only_brands_of_the_hot_word_list_are_checked() -> None:
    brands = prompt_brands()
    assert brands["pantocid"] == "pantoprazole" and "dolo" in brands
    assert "metformin" not in brands  # a generic of the list: Whisper knows it
    segs = [_segment("I take Pantocid every morning, and metformin.", 0), _segment("no pills at all.", 1, 30.0)]
    assert [(w.segment_id, w.heard) for w in find_primed(segs)] == [(0, "Pantocid")]


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
