"""A noisy consultation between two voices that sound alike, through the pipeline with the real recogniser.

One espeak-ng voice at pitch 45 and 55 (closer than the clustering can count as two) in a room's pink noise at
12 dB: the voices are reported as one, the room as noisy, and the roles come from the wording of each turn. The
turns are cut at pauses before they are named: naming whole recogniser segments (which cross turns) gave 0.55 of
the words their right role on this recording, cutting them gives 0.80.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.adapters.speech.whisper_language import recording_warnings
from backend.domain.speakers.assign import NOISY, ONE_VOICE
from backend.evals import conditions as cond
from backend.services.scribe_pipeline import transcribe_recording
from tests.helpers.speech import espeak_available, whisper, whisper_model_dir
from tests.integration.test_speaker_roles import DIALOGUE, speak_dialogue, word_accuracy

__all__ = ["whisper", "whisper_model_dir"]  # fixtures
pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make test installs it)")

CLOSE_VOICES = {"clinician": ("en-us", 155, 45), "patient": ("en-us", 155, 55)}


def test_close_voices_in_a_noisy_room_get_their_roles_from_their_turns(whisper: Any) -> None:
    samples, _, truth = speak_dialogue(DIALOGUE, CLOSE_VOICES)
    assert samples.size <= 60 * cond.SAMPLE_RATE
    room = cond.coloured_noise(samples.size, np.random.default_rng(14), 1.0)
    noisy = cond.add_noise(samples, room, 12.0)
    # The app's checks of the recording run too: room noise is not music or another language, nothing is refused.
    heard = transcribe_recording(noisy, whisper, recording_warnings, listen_again=False)
    assert heard.warnings == [NOISY, ONE_VOICE]  # the nurse is told to check the roles, and why
    assert {s.role_source for s in heard.segments} == {"wording"}
    assert word_accuracy(heard.segments, truth) >= 0.7
