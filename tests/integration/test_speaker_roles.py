"""Who said what on real synthetic speech: espeak-ng voices in a dialogue, roles checked word by word.

Word times come from the synthesis itself (each turn's words spread over its voiced span by length), and the words
are grouped into long segments that cross turns, as a recogniser does, so the split at changes of voice is tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.domain.models import Segment, Word
from backend.domain.speakers import assign_roles
from tests.helpers.speech import SAMPLE_RATE, espeak_available, synth_samples, whisper, whisper_model_dir

__all__ = ["whisper", "whisper_model_dir"]  # fixtures
pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make test installs it)")

Voice = tuple[str, int, int]  # espeak voice, speed, pitch

DIALOGUE = [
    ("clinician", "Good morning. What brings you in today?"),
    ("patient", "I have had a cough for about two weeks and my chest feels tight at night."),
    ("clinician", "Do you have any fever or shortness of breath when you climb stairs?"),
    ("patient", "No fever, but I get winded on the stairs and I feel tired all the time."),
    ("clinician", "Have you been around anyone who was sick recently?"),
    ("patient", "My daughter had a cold last month, I think I caught it from her."),
    ("clinician", "Okay. I want you to take a deep breath in for me. And out. Your lungs sound a little wheezy."),
    ("patient", "It hurts a bit when I breathe in deeply, right here on my left side."),
    ("clinician", "I'm going to prescribe an inhaler, two puffs twice a day, and let's get a chest x-ray."),
    ("patient", "Thank you, doctor. Should I keep taking my allergy pills?"),
    ("clinician", "Yes, keep taking them. We will follow up in two weeks, sooner if the cough gets worse."),
    ("patient", "All right, I will call if anything changes."),
]


def _speech_bounds(x: NDArray[np.float32]) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(x) > 0.02 * max(float(np.abs(x).max()), 1e-9))
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, x.size)


def speak_dialogue(
    turns: Sequence[tuple[str, str]], voices: dict[str, Voice], gap_s: float = 0.35, segment_s: float = 12.0
) -> tuple[NDArray[np.float32], list[Segment], list[tuple[str, float, float]]]:
    """Samples, recogniser-like segments with word times, and the true (role, start, end) of each turn."""
    pieces: list[NDArray[np.float32]] = []
    words: list[Word] = []
    truth: list[tuple[str, float, float]] = []
    t = 0.0
    for role, text in turns:
        voice, speed, pitch = voices[role]
        x = synth_samples(text, voice=voice, speed=speed, pitch=pitch)
        a, b = _speech_bounds(x)
        start, end = t + a / SAMPLE_RATE, t + b / SAMPLE_RATE
        truth.append((role, start, end))
        tokens = text.split()
        weights = np.cumsum([0] + [len(w) + 1 for w in tokens]) / (sum(len(w) + 1 for w in tokens))
        edges = start + weights * (end - start)
        words += [Word(start=float(edges[i]), end=float(edges[i + 1]), text=f" {w}") for i, w in enumerate(tokens)]
        pieces += [x, np.zeros(int(gap_s * SAMPLE_RATE), np.float32)]
        t += x.size / SAMPLE_RATE + gap_s
    segments: list[Segment] = []
    run: list[Word] = []
    for w in words:
        run.append(w)
        if w.end - run[0].start >= segment_s and w.text.rstrip()[-1:] in ".?!":
            segments.append(_segment(len(segments), run))
            run = []
    if run:
        segments.append(_segment(len(segments), run))
    return np.concatenate(pieces), segments, truth


def _segment(i: int, words: list[Word]) -> Segment:
    return Segment(
        id=i, start=words[0].start, end=words[-1].end, text=" ".join(w.text.strip() for w in words), words=words
    )


def word_accuracy(segments: Sequence[Segment], truth: Sequence[tuple[str, float, float]]) -> float:
    """Share of words whose segment's role is the role of the turn holding the word's midpoint."""
    right = total = 0
    for seg in segments:
        for w in seg.words:
            mid = (w.start + w.end) / 2
            role = next((r for r, a, b in truth if a <= mid <= b), None)
            if role is not None:
                total += 1
                right += int(role == seg.speaker)
    return right / total


@pytest.mark.parametrize(
    ("clinician", "patient"),
    [(("en-gb", 165, 45), ("en-us+f3", 150, 60)), (("en-us+m3", 175, 50), ("en-gb-x-rp", 145, 30))],
)
def test_two_voices_get_their_roles_word_by_word(clinician: Voice, patient: Voice) -> None:
    # Two minutes: in one minute the two male voices are not farther apart than one voice's halves may be by chance.
    samples, segments, truth = speak_dialogue(DIALOGUE * 2, {"clinician": clinician, "patient": patient})
    result = assign_roles(samples, segments)
    assert result.voices == 2
    assert result.warnings == []
    assert {s.role_source for s in result.segments} == {"voice"}
    assert len(result.segments) > len(segments)  # segments that crossed turns were split
    assert word_accuracy(result.segments, truth) >= 0.9


def test_one_voice_is_reported_and_roles_come_from_wording() -> None:
    voice = ("en-us", 160, 50)
    samples, segments, _ = speak_dialogue(DIALOGUE, {"clinician": voice, "patient": voice})
    result = assign_roles(samples, segments)
    assert result.voices == 1
    assert any("only one voice" in w.lower() for w in result.warnings)
    assert {s.role_source for s in result.segments} == {"wording"}


def test_three_voices_are_reported_and_the_third_is_other() -> None:
    turns = [
        *DIALOGUE[:6],
        ("other", "Excuse me, I am her husband. She also wakes up coughing most nights."),
        *DIALOGUE[6:],
    ]
    turns += [("other", "We will make sure she uses the inhaler every morning and evening.")]
    voices = {"clinician": ("en-gb", 165, 45), "patient": ("en-us+f3", 150, 70), "other": ("en-us+m7", 140, 20)}
    samples, segments, truth = speak_dialogue(turns, voices)
    result = assign_roles(samples, segments)
    assert result.voices == 3
    assert any("3 voices" in w for w in result.warnings)
    assert word_accuracy(result.segments, truth) >= 0.8


# The browser test's consultation (one espeak-ng voice): its 31 s recording was reported as "3 voices".
SHORT_CONSULTATION = (
    "Good morning doctor. I have had a fever and a dry cough for three days. I do not have chest pain. "
    "My temperature this morning was 101 degrees Fahrenheit. I take metformin 500 milligrams twice daily."
)


def test_a_short_recording_of_one_voice_is_one_voice(whisper: Any) -> None:
    """What the browser test's fake microphone records: about two passes of the looped file, heard by whisper."""
    once = synth_samples(SHORT_CONSULTATION)
    samples = np.tile(once, 3)[: 2 * once.size + SAMPLE_RATE]
    result = assign_roles(samples, whisper.transcribe(samples, "en"))
    assert result.voices == 1
    assert not any("voices were heard" in w for w in result.warnings)


def test_a_short_recording_of_two_voices_is_two_voices() -> None:
    """26 s of the scribe eval's two voices (same espeak voice, two pitches): two voices, not three."""
    voices = {"clinician": ("en-us", 160, 40), "patient": ("en-us", 150, 70)}
    samples, segments, truth = speak_dialogue(DIALOGUE[:6], voices)
    assert samples.size / SAMPLE_RATE < 30
    result = assign_roles(samples, segments)
    assert result.voices == 2
    assert word_accuracy(result.segments, truth) >= 0.9
