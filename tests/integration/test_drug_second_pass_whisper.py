"""The drug-name second pass with the real whisper model on espeak-ng speech: "Prozac" heard as "project"."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.drafting import draft_note
from backend.services.scribe_pipeline import draft_transcript, transcribe_recording
from tests.helpers.speech import espeak_available, synth_samples, whisper, whisper_model_dir

__all__ = ["whisper", "whisper_model_dir"]
pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
SAID = "We will continue the Prozac, twenty milligrams a day, for your depression."


def test_second_pass_recovers_a_misheard_brand_unverified(whisper: Any) -> None:
    samples = synth_samples(SAID, speed=160, pitch=40)
    plain = transcribe_recording(samples, whisper, listen_again=False)
    assert "prozac" not in " ".join(s.text for s in plain.segments).lower()  # the first pass mishears it
    assert plain.recoveries == []

    heard = transcribe_recording(samples, whisper, listen_again=True)
    assert [s.text for s in heard.segments] == [s.text for s in plain.segments]  # the transcript stays as heard
    assert [r.drug for r in heard.recoveries] == ["fluoxetine"]
    result = draft_transcript(heard.segments, draft_note, heard.recoveries)
    (med,) = [m for m in result.content.medications if m.name.lower() == "fluoxetine"]
    assert med.verified is False and med.found_by == "sounds_like"
    assert med.heard_as == heard.recoveries[0].heard
    assert med.heard_as and med.heard_as.lower() not in {"prozac", "fluoxetine"}
