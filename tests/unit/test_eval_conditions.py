"""The recording-condition generator: exact SNR, seeded, spectra where they should be, times that follow."""

from __future__ import annotations

import numpy as np
import pytest

from backend.evals import conditions as cond

RATE = cond.SAMPLE_RATE


def tone_speech(seconds: float = 2.0, seed: int = 0) -> cond.Samples:
    """A speech-like test signal: a 150 Hz harmonic buzz switched on and off, seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12))
    gate = np.repeat(rng.random(int(seconds * 10)) > 0.3, RATE // 10)[: t.size]
    return (0.3 * buzz * gate).astype(np.float32)


def band_share(x: cond.Samples, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum())


@pytest.mark.parametrize("kind", ["white", "pink", "brown", "babble"])
@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0])
def test_noise_is_added_at_the_asked_snr(kind: str, snr: float) -> None:
    clean = tone_speech()
    rng = np.random.default_rng(1)
    noise = {
        "white": lambda: cond.white_noise(clean.size, rng),
        "pink": lambda: cond.coloured_noise(clean.size, rng, 1.0),
        "brown": lambda: cond.coloured_noise(clean.size, rng, 2.0),
        "babble": lambda: cond.babble([tone_speech(3.0, s) for s in range(3)], clean.size, rng),
    }[kind]()
    noisy = cond.add_noise(clean, noise, snr)
    assert abs(cond.snr_db(clean, noisy) - snr) < 0.1
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape


def test_the_same_seed_gives_the_same_samples_and_another_seed_others() -> None:
    clean = tone_speech()

    def make(seed: int) -> cond.Samples:
        rng = np.random.default_rng(seed)
        return cond.reverberate(cond.add_noise(clean, cond.coloured_noise(clean.size, rng), 10.0), 0.4, rng)

    assert np.array_equal(make(3), make(3))
    assert not np.allclose(make(3), make(4))


def test_pink_and_brown_noise_fall_with_frequency() -> None:
    rng = np.random.default_rng(0)
    white = cond.white_noise(RATE * 4, rng)
    pink = cond.coloured_noise(RATE * 4, rng, 1.0)
    brown = cond.coloured_noise(RATE * 4, rng, 2.0)
    low = [band_share(x, 50, 500) for x in (white, pink, brown)]
    assert low[0] < low[1] < low[2]  # more and more of the power in the low band
    assert abs(float(np.std(pink)) - 1.0) < 1e-3
    assert band_share(brown, 0, 45) < 1e-6  # no rumble below the microphone's range


def test_telephone_keeps_the_voice_band_only() -> None:
    rng = np.random.default_rng(0)
    narrow = cond.telephone(cond.white_noise(RATE * 2, rng))
    assert band_share(narrow, 300, 3400) > 0.97
    assert band_share(narrow, 0, 200) < 0.005 and band_share(narrow, 3600, 8000) < 0.005


def test_reverberation_keeps_the_level_and_leaves_a_decaying_tail() -> None:
    click = np.zeros(RATE, np.float32)
    click[100] = 1.0
    wet = cond.reverberate(click, 0.5, np.random.default_rng(0))
    assert abs(cond.power(wet) - cond.power(click)) < 1e-9
    early = cond.power(wet[101 : 101 + RATE // 10])
    late = cond.power(wet[101 + 3 * RATE // 10 : 101 + 4 * RATE // 10])
    # 60 dB per 0.5 s: 0.3 s later the tail is about 36 dB weaker, far more than 20 dB.
    assert 10 * np.log10(early / late) > 20
    assert abs(wet[100]) > abs(wet[101:]).max()  # the direct sound comes first and loudest


def test_speed_change_shortens_the_recording_and_raises_its_pitch() -> None:
    t = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    fast = cond.change_speed(tone, 1.25)
    assert fast.size == round(RATE / 1.25)
    peak = np.fft.rfftfreq(fast.size, 1 / RATE)[np.argmax(np.abs(np.fft.rfft(fast)))]
    assert abs(peak - 250) < 2


def test_overlapping_turns_start_before_the_last_ends() -> None:
    a = np.full(RATE, 0.1, np.float32)
    samples = np.concatenate([np.zeros(RATE // 2, np.float32), a, np.zeros(RATE // 2, np.float32), 2 * a])
    turns = [cond.Turn(0.5, 1.5), cond.Turn(2.0, 3.0)]
    out, placed = cond.overlap_turns(samples, turns, 0.25)
    assert placed == [cond.Turn(0.5, 1.5), cond.Turn(1.25, 2.25)]
    assert out.size == int(2.25 * RATE)
    mid = int(1.4 * RATE)
    assert out[mid] == pytest.approx(0.3)  # both voices at once where they overlap
    assert samples[RATE] == pytest.approx(0.1)  # the input is left as it was


def test_noise_without_power_is_refused() -> None:
    with pytest.raises(ValueError, match="power"):
        cond.add_noise(tone_speech(), np.zeros(10, np.float32), 10.0)
