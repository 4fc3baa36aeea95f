"""Transcriber contract: what was said comes back as numbered, timed segments inside the audio; silence is nothing.

The cloud engines (Transcribe, Gemini) have their protocol fakes in their own tests; pocketsphinx is the
last-resort fallback and is held to less (``test_scribe_bad_input.py``).
"""

from __future__ import annotations

import re

import numpy as np

from backend.ports import SpanTranscriber
from tests.integration.contract.conftest import SpeechUnderTest

RATE = 16_000
SENTENCE = "I have had a cough for three days. Take paracetamol twice daily."


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_speech_comes_back_as_timed_segments_within_the_audio(speech: SpeechUnderTest) -> None:
    samples = speech.say(SENTENCE)
    segments = speech.engine.transcribe(samples)
    assert segments and all(s.text.strip() for s in segments)
    assert [s.id for s in segments] == list(range(len(segments)))
    duration = len(samples) / RATE
    assert all(0.0 <= s.start < s.end <= duration + 0.5 for s in segments)
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert {"cough", "paracetamol", "twice"} <= _words(" ".join(s.text for s in segments))


def test_silence_gives_no_segments(speech: SpeechUnderTest) -> None:
    assert speech.engine.transcribe(np.zeros(3 * RATE, dtype=np.float32)) == []


def test_a_span_is_decoded_again_with_hot_words(speech: SpeechUnderTest) -> None:
    samples = speech.say(SENTENCE)
    assert isinstance(speech.engine, SpanTranscriber)
    text = speech.engine.transcribe_span(samples, 0.0, len(samples) / RATE, "paracetamol")
    assert "paracetamol" in _words(text)
