"""eval robustness: the transcript cache (words kept, each recording decoded once) and seeded conditions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from backend.domain.models import Segment, Word
from backend.evals.robustness import CONDITIONS, CachedTranscriber, seed_of


class CountingEngine:
    """A recogniser that always hears the same two words, and counts how often it was asked."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        self.calls += 1
        words = [Word(start=0.0, end=0.4, text=" any"), Word(start=0.5, end=1.0, text=" fever?")]
        return [Segment(id=0, start=0.0, end=1.0, text="any fever?", words=words)]

    def transcribe_span(self, samples: NDArray[np.float32], start: float, end: float, hotwords: str) -> str:
        self.calls += 1
        return f"heard {start:.1f}-{end:.1f} with {hotwords}"


def test_the_cache_keeps_word_times_and_decodes_each_recording_once(tmp_path: Path) -> None:
    engine = CountingEngine()
    x = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    first = CachedTranscriber(engine, tmp_path).transcribe(x)
    again = CachedTranscriber(engine, tmp_path).transcribe(x.copy())  # a new run, the same samples
    assert engine.calls == 1
    assert again[0].words == first[0].words  # the words split segments at changes of voice: they must survive
    CachedTranscriber(engine, tmp_path).transcribe(x * 0.5)
    assert engine.calls == 2  # other samples are decoded


def test_the_cache_keeps_second_listens_by_span_and_hot_words(tmp_path: Path) -> None:
    engine = CountingEngine()
    cached = CachedTranscriber(engine, tmp_path)
    x = np.zeros(16_000, np.float32)
    assert cached.transcribe_span(x, 0.0, 1.0, "lisinopril") == cached.transcribe_span(x, 0.0, 1.0, "lisinopril")
    cached.transcribe_span(x, 0.0, 1.0, "metformin")
    assert engine.calls == 2
    assert cached.name == "counting"  # the rest is the engine's


def test_each_condition_has_its_own_fixed_seed() -> None:
    seeds = {seed_of(c, row) for c in CONDITIONS for row in range(4)}
    assert len(seeds) == 4 * len(CONDITIONS)
    assert seed_of("room_10", 2) == seed_of("room_10", 2)
