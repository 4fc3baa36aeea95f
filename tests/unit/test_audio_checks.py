"""Pure checks on bad scribe input: music and tones, Whisper loops, the spoken language (no model, no espeak)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.domain import audio_checks
from backend.domain.audio_checks import LanguageGuess, language_warnings, looping_word, sound_shares, sound_warnings
from backend.domain.errors import ValidationFailed
from backend.domain.models import Segment
from backend.evals import conditions as cond

SR = 16_000


def seg(text: str, i: int = 0) -> Segment:
    return Segment(id=i, start=float(i), end=float(i) + 1, text=text)


def chords(seconds: float = 6.0) -> NDArray[np.float32]:
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * SR)) / SR
    out = np.zeros_like(t)
    for i in range(int(seconds / 0.5)):
        root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
        inside = (t >= i * 0.5) & (t < (i + 1) * 0.5)
        tt = t[inside] - i * 0.5
        for ratio in (1.0, 1.26, 1.5, 2.0):
            out[inside] += np.exp(-3 * tt) * np.sin(2 * np.pi * root * ratio * tt)
    return (0.2 * out / np.max(np.abs(out))).astype(np.float32)


def sung_tone(seconds: float = 8.0) -> NDArray[np.float32]:
    t = np.arange(int(seconds * SR)) / SR
    return (
        0.3 * np.sin(2 * np.pi * (200 * t + 3 * np.sin(2 * np.pi * 5 * t))) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    ).astype(np.float32)


def babble(seconds: float = 6.0) -> NDArray[np.float32]:
    """Noise through a filter that changes every 40 ms: sound that moves like speech, with no tones in it."""
    rng = np.random.default_rng(9)
    step = int(0.04 * SR)
    pieces = []
    for _ in range(int(seconds * SR / step)):
        k = int(rng.integers(2, 30))
        pieces.append(np.convolve(rng.standard_normal(step), np.ones(k) / k, mode="same"))
    return (0.1 * np.concatenate(pieces)).astype(np.float32)


@pytest.mark.parametrize("music", [chords(), sung_tone()], ids=["chords", "sung tone"])
def test_music_and_tones_make_no_note(music: NDArray[np.float32]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        sound_warnings(music, [seg("Take Ecosprin 75 milligrams daily.")])
    assert failed.value.message == audio_checks.NOT_SPEECH


def test_moving_sound_is_not_taken_for_music() -> None:
    shares = sound_shares(babble())
    assert shares.tonal < 0.1 and shares.sustained < 0.1
    assert sound_warnings(babble(), [seg("I have a cough.")]) == []


def test_music_in_part_of_a_recording_is_a_warning() -> None:
    """4 s of music beside 6 s of moving sound, as loud as each other: a warning, not a failure."""
    music = chords(4.0)
    moving = babble(6.0)
    moving *= np.sqrt(np.mean(music**2) / np.mean(moving**2))
    assert sound_warnings(np.concatenate([moving, music]), [seg("I have a cough.")]) == [audio_checks.SOME_MUSIC]


def test_too_short_to_measure_is_not_music() -> None:
    assert sound_shares(np.zeros(100, dtype=np.float32)) == audio_checks.SoundShares(0.0, 0.0)


def test_a_transcript_looping_on_one_word_fails_with_that_word() -> None:
    looping = [seg("Ecosprin, Ecosprin, Ecosprin, Ecosprin, Ecosprin,")]
    assert looping_word(looping) == "ecosprin"
    with pytest.raises(ValidationFailed, match="“ecosprin”"):
        sound_warnings(babble(), looping)


@pytest.mark.parametrize(
    "text",
    [
        "I have had a fever and a cough for three days and the cough is worse at night.",
        "No, no, no, it is fine.",  # short words repeat in any speech
        "Pain, pain.",  # too few words to call a loop
    ],
)
def test_ordinary_speech_is_not_a_loop(text: str) -> None:
    assert looping_word([seg(text)]) is None


HINDI = LanguageGuess(0.05, (("hi", 0.7), ("ur", 0.1)), 30.0)


def test_clearly_english_is_not_looked_at_closer() -> None:
    assert language_warnings(LanguageGuess(0.93, (("de", 0.01),), 30.0)) == []
    assert language_warnings(None) == []


def test_no_english_anywhere_fails_naming_the_language() -> None:
    parts = [LanguageGuess(0.02, (("hi", 0.8),), 3.0), LanguageGuess(0.1, (("hi", 0.5),), 2.0)]
    with pytest.raises(ValidationFailed) as failed:
        language_warnings(HINDI, parts)
    assert failed.value.message == audio_checks.NO_ENGLISH.format(detected=" (detected: Hindi)")


def test_mostly_another_language_warns() -> None:
    parts = [LanguageGuess(0.02, (("es", 0.8),), 5.0), LanguageGuess(0.06, (("es", 0.7),), 3.0)]
    parts.append(LanguageGuess(0.94, (("es", 0.01),), 2.0))
    [warning] = language_warnings(LanguageGuess(0.4, (("es", 0.4),), 10.0), parts)
    assert warning.startswith("Most of this recording is not in English (detected: Spanish)")


def test_partly_another_language_says_how_much() -> None:
    parts = [LanguageGuess(0.9, (), 8.0), LanguageGuess(0.1, (("ta", 0.6),), 2.0)]
    [warning] = language_warnings(LanguageGuess(0.6, (("ta", 0.3),), 10.0), parts)
    assert warning.startswith("About 20% of this recording is not in English (detected: Tamil)")


def test_a_fallback_guess_is_not_named() -> None:
    """Whisper guesses Latin or Welsh for speech it cannot place: say "not English" without a wrong name."""
    guess = LanguageGuess(0.1, (("la", 0.3), ("cy", 0.2)), 6.0)
    with pytest.raises(ValidationFailed) as failed:
        language_warnings(guess, [guess])
    assert "(detected" not in failed.value.message and "No English speech" in failed.value.message


def syllables(seconds: float = 8.0, seed: int = 3) -> NDArray[np.float32]:
    """Bursts of moving noise 0.1-0.4 s long between pauses of 0.1-0.5 s: speech's on-off envelope, dry."""
    rng = np.random.default_rng(seed)
    out: list[NDArray[np.float32]] = []
    while sum(p.size for p in out) < seconds * SR:
        out.append(babble(float(rng.uniform(0.1, 0.4))))
        out.append(np.zeros(int(rng.uniform(0.1, 0.5) * SR), np.float32))
    return np.concatenate(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dry_speech_is_not_called_echoing_even_in_noise(seed: int) -> None:

    dry = syllables(seed=seed)
    noisy = cond.add_noise(dry, cond.coloured_noise(dry.size, np.random.default_rng(seed), 1.0), 10.0)
    assert audio_checks.echo_ratio(dry) > 0.95 and audio_checks.echo_ratio(noisy) > 0.9
    assert audio_checks.ECHO not in sound_warnings(dry, []) + sound_warnings(noisy, [])


@pytest.mark.parametrize(("rt60", "direct_db"), [(0.3, 6.0), (0.5, 3.0), (0.8, 0.0)])
def test_a_room_that_echoes_is_told_what_to_do(rt60: float, direct_db: float) -> None:

    room = cond.reverberate(syllables(), rt60, np.random.default_rng(11), direct_db)
    assert audio_checks.echo_ratio(room) < 0.7
    assert audio_checks.ECHO in sound_warnings(room, [])
    assert "record closer" in audio_checks.ECHO


def test_echoing_english_whose_guess_is_spread_is_still_english() -> None:
    """Reverberant English: P(English) under 0.5, Whisper's fallback guess (Latin) likelier; a short stretch
    heard as Hindi is too little of it to warn."""
    parts = [
        LanguageGuess(0.46, (("la", 0.39), ("cy", 0.05)), 16.5),
        LanguageGuess(0.29, (("la", 0.54), ("nn", 0.05)), 10.3),
        LanguageGuess(0.9, (("nn", 0.01),), 20.0),
        LanguageGuess(0.3, (("hi", 0.6),), 1.5),
    ]
    assert language_warnings(LanguageGuess(0.61, (("fi", 0.28),), 30.0), parts) == []


def test_another_language_among_fallback_guesses_is_still_counted() -> None:
    parts = [LanguageGuess(0.05, (("hi", 0.8),), 9.0), LanguageGuess(0.2, (("la", 0.5),), 3.0)]
    parts.append(LanguageGuess(0.9, (), 1.0))
    [warning] = language_warnings(LanguageGuess(0.4, (("hi", 0.5),), 13.0), parts)
    assert warning.startswith("Most of this recording is not in English (detected: Hindi)")
