"""Splitting a segment at a change of voice, at word boundaries."""

from __future__ import annotations

import pytest

from backend.domain.models import Segment, Word
from backend.domain.speakers.split import split_segment


def seg(words: list[tuple[float, float, str]]) -> Segment:
    ws = [Word(start=a, end=b, text=f" {t}") for a, b, t in words]
    return Segment(id=3, start=0.0, end=4.2, text=" ".join(t for *_, t in words), words=ws)


WORDS = [(0.1, 0.4, "How"), (0.4, 0.6, "are"), (0.6, 0.9, "you?"), (1.3, 1.6, "I'm"), (1.6, 2.0, "fine.")]


def test_a_change_of_voice_splits_at_the_word_boundary() -> None:
    pieces = split_segment(seg(WORDS), [0, 0, 0, 1, 1])
    assert [(p.text, v) for p, v in pieces] == [("How are you?", 0), ("I'm fine.", 1)]
    first, second = pieces[0][0], pieces[1][0]
    assert (first.start, first.end) == (0.0, 0.9)  # the first piece keeps the segment's start
    assert (second.start, second.end) == (1.3, 4.2)  # the last keeps its end
    assert [w.text.strip() for w in second.words] == ["I'm", "fine."]


def test_one_voice_keeps_the_segment_whole() -> None:
    s = seg(WORDS)
    assert split_segment(s, [1] * 5) == [(s, 1)]


def test_voice_back_and_forth_gives_three_pieces() -> None:
    pieces = split_segment(seg(WORDS), [0, 1, 1, 0, 0])
    assert [v for _, v in pieces] == [0, 1, 0]
    assert sum(len(p.words) for p, _ in pieces) == 5


def test_a_segment_without_words_is_assigned_whole() -> None:
    s = Segment(id=0, start=1.0, end=2.0, text="Hello")
    assert split_segment(s, [2]) == [(s, 2)]


def test_labels_must_match_the_words() -> None:
    with pytest.raises(ValueError, match="labels"):
        split_segment(seg(WORDS), [0, 1])


def test_pieces_keep_the_text_as_spelled_not_the_words_joined() -> None:
    # Whisper words of "50-year-old" are "50", "-year", "-old": joined with spaces they would hide the age.
    words = [
        Word(start=0.1 * i, end=0.1 * i + 0.1, text=t)
        for i, t in enumerate(["Ok.", "She", "is", "50", "-year", "-old."])
    ]
    s = Segment(id=0, start=0.0, end=0.6, text="Ok. She is 50-year-old.", words=words)
    pieces = split_segment(s, [0, 1, 1, 1, 1, 1])
    assert [p.text for p, _ in pieces] == ["Ok.", "She is 50-year-old."]


def test_words_missing_from_the_text_fall_back_to_the_words_joined() -> None:
    words = [Word(start=0.0, end=0.5, text="Hello"), Word(start=0.5, end=1.0, text="there")]
    s = Segment(id=0, start=0.0, end=1.0, text="(edited)", words=words)
    assert [p.text for p, _ in split_segment(s, [0, 1])] == ["Hello", "there"]
