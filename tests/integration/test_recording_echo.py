"""A consultation recorded in a room that echoes, through the app's recording checks with the real recogniser.

Eight seconds of espeak-ng speech, dry and then through a seeded room (RT60 0.5 s): the echoing copy gets the
warning that says what to do, and neither copy is called "not in English" (Whisper's language guesses spread over
Latin and Finnish on reverberant stretches).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.adapters.speech.whisper_language import recording_warnings
from backend.domain.audio_checks import ECHO
from backend.evals import conditions as cond
from tests.helpers.speech import espeak_available, synth_samples, whisper, whisper_model_dir

__all__ = ["whisper", "whisper_model_dir"]  # fixtures
pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make test installs it)")

SPEECH = "I have had a cough for a week. It is worse at night. I take paracetamol when the fever comes."


def test_an_echoing_room_is_warned_and_still_english(whisper: Any) -> None:
    dry = synth_samples(SPEECH)
    room = cond.reverberate(dry, 0.5, np.random.default_rng(21))
    for samples, echoes in ((dry, False), (room, True)):
        segments = whisper.transcribe(samples, "en")
        assert "cough" in " ".join(s.text for s in segments).lower()
        warnings = recording_warnings(whisper, samples, segments)
        assert (ECHO in warnings) is echoes
        assert not any("English" in w for w in warnings)
