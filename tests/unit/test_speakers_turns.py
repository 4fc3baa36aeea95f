"""Roles from wording when the voices cannot be told apart: segments are cut into turns at pauses first."""

from __future__ import annotations

from backend.domain.models import Segment, Word
from backend.domain.speakers.assign import roles_from_wording
from backend.domain.speakers.turns import pause_pieces, roles_by_turns

# One recogniser segment holding a question and its answer, and the next one holding the same again (the
# recogniser's windows cross turns); 0.5 s of silence where the speaker changes, 0.05 s between other words.
TURNS = [
    ("clinician", "What brings you in today? Any fever or chest pain?"),
    ("patient", "I have had a cough for two weeks and my chest hurts at night."),
    ("clinician", "How long have you had the chest pain? Let me listen to your lungs."),
    ("patient", "About a week. I feel tired and my throat is sore."),
]


def segments(gap_s: float = 0.5) -> tuple[list[Segment], list[str]]:
    out: list[Segment] = []
    truth: list[str] = []
    t = 0.0
    for pair in (TURNS[:2], TURNS[2:]):
        words: list[Word] = []
        for role, text in pair:
            for token in text.split():
                words.append(Word(start=t, end=t + 0.3, text=f" {token}"))
                truth.append(role)
                t += 0.35
            t += gap_s
        text = " ".join(w.text.strip() for w in words)
        out.append(Segment(id=len(out), start=words[0].start, end=words[-1].end, text=text, words=words))
    return out, truth


def per_word(segs: list[Segment]) -> list[str | None]:
    return [s.speaker for s in segs for _ in s.words]


def test_segments_are_cut_at_pauses_with_their_text_as_spelled() -> None:
    segs, _ = segments()
    pieces = pause_pieces(segs)
    assert [p.text for p in pieces] == [text for _, text in TURNS]
    assert pieces[1].start == segs[0].words[10].start and pieces[1].end == segs[0].end


def test_short_gaps_do_not_cut() -> None:
    segs, _ = segments(gap_s=0.1)
    assert len(pause_pieces(segs)) == len(segs)


def test_each_turn_gets_its_role_where_whole_segments_could_not() -> None:
    segs, truth = segments()
    got = per_word(roles_by_turns(segs))
    assert got == truth
    # Named whole, each segment gives half its words the wrong role.
    before = per_word(roles_from_wording(segs).segments)
    assert sum(a == b for a, b in zip(before, truth, strict=True)) <= 0.6 * len(truth)


def test_a_segment_with_a_speaker_keeps_it_and_is_not_cut() -> None:
    segs, _ = segments()
    tagged = segs[0].model_copy(update={"speaker": "patient", "role_source": "engine"})
    out = roles_by_turns([tagged, segs[1]])
    assert out[0] == tagged
    assert [s.role_source for s in out[1:]] == ["wording", "wording"]


def test_segments_without_words_stay_whole() -> None:
    seg = Segment(id=0, start=0.0, end=2.0, text="Any fever?")
    assert [(s.text, s.speaker) for s in roles_by_turns([seg])] == [("Any fever?", "clinician")]
