"""Real faster-whisper decoding a recording's clips two at a time: the same transcript every run, and the
serial one (one clip at a time on both cores), word for word and time for time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.audio.decode import SAMPLE_RATE
from backend.adapters.speech.whisper_stt import WhisperTranscriber, plan_speech
from tests.helpers.speech import synth_samples, whisper_model_dir

__all__ = ["whisper_model_dir"]  # fixture imported for pytest

TURNS = (
    ("en-us", "Good morning. What brings you in today?"),
    ("en-gb", "I have had a cough and a mild fever for three days, and some pain in my chest at night."),
    ("en-us", "Are you taking anything for it at the moment?"),
    ("en-gb", "Only paracetamol, five hundred milligrams, two or three times a day."),
    ("en-us", "Your chest sounds clear. I will start amoxicillin five hundred milligrams three times daily."),
    ("en-gb", "Should I keep taking the metformin for my sugar as well?"),
    ("en-us", "Yes, keep the metformin as before, and come back in one week if the fever does not settle."),
)


@pytest.fixture(scope="module")
def consultation() -> NDArray[np.float32]:
    """~40 s of two voices with a second between turns: more than one Whisper window, so several clips."""
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    return np.concatenate([part for voice, text in TURNS for part in (synth_samples(text, voice=voice), gap)])


def _words(engine: WhisperTranscriber, audio: NDArray[np.float32]) -> list[tuple[float, float, str]]:
    return [(w.start, w.end, w.text) for s in engine.transcribe(audio) for w in s.words]


def test_two_clips_at_once_give_the_same_words_and_times_every_run_and_as_one_at_a_time(
    whisper_model_dir: Path, consultation: NDArray[np.float32]
) -> None:
    assert len(plan_speech(consultation).clips) >= 2  # otherwise nothing would run side by side
    parallel = WhisperTranscriber(whisper_model_dir, threads=2, parallel=2, verify=False)
    serial = WhisperTranscriber(whisper_model_dir, threads=2, parallel=1, verify=False)  # one clip on both cores
    first = _words(parallel, consultation)
    text = " ".join(t for _s, _e, t in first).lower()
    assert "amoxicillin" in text and "metformin" in text
    assert _words(parallel, consultation) == first
    assert _words(serial, consultation) == first
