"""assign_roles end to end on synthetic voices (harmonic sounds with their own pitch and timbre, no espeak)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.domain.models import Segment, Word
from backend.domain.speakers import assign_roles
from backend.domain.speakers.assign import name_voices

RATE = 16_000
# (pitch Hz, spectral tilt): a low dark voice, a high bright one, a middle one.
VOICES = {"clinician": (105.0, 1.6), "patient": (215.0, 0.7), "other": (150.0, 1.1)}
TURNS = [
    ("clinician", "Good morning, what brings you in today?"),
    ("patient", "I have a cough and my chest hurts at night."),
    ("clinician", "How long have you had the cough? Any fever?"),
    ("patient", "About two weeks. I feel tired and my throat is sore."),
    ("clinician", "Let's listen to your lungs. I want you to take a deep breath."),
    ("patient", "It hurts when I breathe in deeply."),
    ("clinician", "I'm going to prescribe an inhaler twice a day and we will follow up in two weeks."),
    ("patient", "Thank you doctor, my wife will pick it up."),
]


def word_sound(f0: float, tilt: float, seconds: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """A voiced 'word': harmonics of a wandering pitch, falling with harmonic number, shaped by a random vowel."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = f0 * rng.uniform(0.9, 1.1) * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    f1, f2 = rng.uniform(300, 900), rng.uniform(900, 2600)  # what is said varies the spectrum, not the speaker
    gain = [
        (1 + 3 * np.exp(-(((k * f0 - f1) / 150) ** 2)) + 2 * np.exp(-(((k * f0 - f2) / 250) ** 2))) / k**tilt
        for k in range(1, int(4000 / f0))
    ]
    wave = sum(g * np.sin(k * phase) for k, g in enumerate(gain, start=1))
    envelope = np.sin(np.pi * t / seconds) ** 0.5
    return (0.2 * wave * envelope / np.abs(wave).max() + rng.normal(0, 1e-3, t.size)).astype(np.float32)


def recording(turns: list[tuple[str, str]]) -> tuple[NDArray[np.float32], list[Segment], list[str]]:
    """Samples, one recogniser-like segment per two turns (so segments cross turns), the true role per word."""
    rng = np.random.default_rng(0)
    pieces: list[NDArray[np.float32]] = []
    words: list[Word] = []
    truth: list[str] = []
    t = 0.0
    for role, text in turns:
        f0, tilt = VOICES[role]
        for token in text.split():
            dur = 0.12 + 0.05 * len(token)
            pieces += [word_sound(f0, tilt, dur, rng), np.zeros(int(0.06 * RATE), np.float32)]
            words.append(Word(start=t, end=t + dur, text=f" {token}"))
            truth.append(role)
            t += dur + 0.06
        pieces.append(np.zeros(int(0.4 * RATE), np.float32))
        t += 0.4
    counts = [len(text.split()) for _, text in turns]
    segments: list[Segment] = []
    k = 0
    for i in range(0, len(turns), 2):
        n = sum(counts[i : i + 2])
        ws = words[k : k + n]
        segments.append(Segment(id=len(segments), start=ws[0].start, end=ws[-1].end, text="", words=ws))
        k += n
    return np.concatenate(pieces), segments, truth


def roles_per_word(segments: list[Segment]) -> list[str | None]:
    return [s.speaker for s in segments for _ in s.words]


def test_two_voices_split_at_their_turns_and_named_by_their_words() -> None:
    samples, segments, truth = recording(TURNS)
    result = assign_roles(samples, segments)
    assert result.voices == 2
    assert result.warnings == []
    got = roles_per_word(result.segments)
    assert np.mean([a == b for a, b in zip(got, truth, strict=True)]) >= 0.95
    assert {s.role_source for s in result.segments} == {"voice"}


def test_same_input_same_output() -> None:
    samples, segments, _ = recording(TURNS)
    a, b = assign_roles(samples, segments), assign_roles(samples.copy(), segments)
    assert [(s.start, s.end, s.speaker) for s in a.segments] == [(s.start, s.end, s.speaker) for s in b.segments]


def test_one_voice_warns_and_guesses_from_wording() -> None:
    samples, segments, _ = recording([("clinician", text) for _, text in TURNS])
    result = assign_roles(samples, segments)
    assert result.voices == 1
    assert result.warnings and "only one voice" in result.warnings[0].lower()
    assert {s.role_source for s in result.segments} == {"wording"}


def test_three_voices_warn_and_the_third_is_other() -> None:
    turns = [*TURNS[:4], ("other", "She has been coughing every night, I hear it through the wall."), *TURNS[4:]]
    turns.append(("other", "We will pick up the inhaler on the way home today."))
    samples, segments, truth = recording(turns)
    result = assign_roles(samples, segments)
    assert result.voices == 3
    assert any("3 voices" in w for w in result.warnings)
    got = roles_per_word(result.segments)
    assert np.mean([a == b for a, b in zip(got, truth, strict=True)]) >= 0.85


def test_engine_labels_are_kept_and_unnamed_ones_named_by_wording() -> None:
    segs = [
        Segment(id=0, start=0, end=1, text="What brings you in? Any fever?", speaker="spk_0"),
        Segment(id=1, start=1, end=2, text="I have a cough and my chest hurts.", speaker="spk_1"),
    ]
    result = assign_roles(np.zeros(RATE * 2, np.float32), segs)
    assert [(s.speaker, s.role_source) for s in result.segments] == [("clinician", "engine"), ("patient", "engine")]


def test_no_segments_and_silence_do_not_crash() -> None:
    assert assign_roles(np.zeros(0, np.float32), []).segments == []
    silent = [Segment(id=0, start=0.0, end=1.0, text="Hello?")]
    result = assign_roles(np.zeros(RATE, np.float32), silent)
    assert result.segments[0].speaker in {"clinician", "patient"}
    assert result.voices == 0
    assert "too little speech" in result.warnings[0].lower()


def test_a_parent_speaking_for_a_child_is_other_not_patient() -> None:
    """The voice who says most is the patient, unless it speaks of someone else ("she") more than of itself."""
    roles, _ = name_voices(
        {
            0: ["So can you tell me how she has been eating?", "I am going to order a kidney ultrasound for her."],
            1: [
                "She was born early and she had trouble feeding. Her twin was smaller.",
                "She is in therapy now and she is crawling. We have seen her neurologist.",
            ],
        }
    )
    assert roles == {0: "clinician", 1: "other"}


def test_a_patient_who_mentions_family_stays_the_patient() -> None:
    roles, _ = name_voices(
        {
            0: ["What brings you in today?", "Let me examine your knee. I will prescribe ibuprofen."],
            1: [
                "My knee hurts when I climb stairs. My husband says I limp.",
                "He drove me here, I could not walk far.",
            ],
            2: ["She has been limping for a week."],
        }
    )
    assert roles == {0: "clinician", 1: "patient", 2: "other"}
