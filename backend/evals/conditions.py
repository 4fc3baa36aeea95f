"""Recording conditions for robustness checks: noise, a room, a telephone line, speed and overlapping turns.

Pure numpy and seeded: the same condition, seed and input give the same samples on every run and machine. Each
function takes 16 kHz mono float32 samples and returns new ones; none changes its input.

- ``add_noise``: noise scaled so that the power of the input over the power of the added noise is ``snr_db``
  exactly (over the whole recording, pauses included: the figure one can check, not a speech-activity guess).
- ``white_noise``, ``coloured_noise`` (pink 1/f: a room's hum and murmur; brown 1/f^2: a fan), ``babble`` (other
  speech, several talkers at once, from recordings given).
- ``reverberate``: an exponentially decaying noise tail (RT60) after the direct sound, level kept.
- ``telephone``: the 300-3400 Hz band of a phone line (raised-cosine edges, FFT filter).
- ``change_speed``: faster or slower speech, pitch moving with it (resampling, as a tape).
- ``overlap_turns``: turns cut from a recording at their true times and laid again so each starts before the
  previous one ends (people talking over each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16_000
Samples = NDArray[np.float32]
LOWEST_HZ = 50.0


def power(x: NDArray[np.floating]) -> float:
    """Mean square of the samples (0 for none)."""
    return float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0


def snr_db(clean: NDArray[np.floating], noisy: NDArray[np.floating]) -> float:
    """Signal-to-noise ratio of ``noisy`` against the ``clean`` it was made from, in dB (noise = the difference)."""
    return 10.0 * np.log10(power(clean) / max(power(noisy.astype(np.float64) - clean), 1e-20))


def add_noise(samples: Samples, noise: NDArray[np.floating], snr: float) -> Samples:
    """``samples`` plus ``noise`` scaled to ``snr`` dB below them (noise repeated or cut to their length).

    Raises:
        ValueError: the noise or the samples are all zeros (no ratio can be set).
    """
    x = np.asarray(samples, dtype=np.float64)
    n = np.resize(np.asarray(noise, dtype=np.float64), x.size)
    ps, pn = power(x), power(n)
    if ps == 0.0 or pn == 0.0:
        raise ValueError("both the samples and the noise need some power to set a signal-to-noise ratio")
    return (x + n * np.sqrt(ps / (pn * 10.0 ** (snr / 10.0)))).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> Samples:
    """Gaussian white noise, unit variance."""
    return rng.standard_normal(n).astype(np.float32)


def coloured_noise(n: int, rng: np.random.Generator, exponent: float = 1.0) -> Samples:
    """Noise whose power falls as ``1 / f ** exponent`` (1: pink, a room; 2: brown, a fan), from 50 Hz.

    Made by shaping white noise's spectrum; unit variance.
    """
    if n == 0:
        return np.zeros(0, np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    # Nothing below 50 Hz: a microphone passes little there, and rumble would count in the SNR unheard.
    spectrum *= np.where(freqs >= LOWEST_HZ, 1.0 / np.maximum(freqs, LOWEST_HZ) ** (exponent / 2.0), 0.0)
    y = np.fft.irfft(spectrum, n)
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def babble(sources: Sequence[NDArray[np.floating]], n: int, rng: np.random.Generator, talkers: int = 4) -> Samples:
    """Several talkers at once: ``talkers`` stretches of the ``sources`` (other recordings) from random places,
    each at the same level, summed; unit variance.

    Raises:
        ValueError: no source has sound.
    """
    usable = [np.asarray(s, dtype=np.float64) for s in sources if power(np.asarray(s)) > 0]
    if not usable:
        raise ValueError("babble needs at least one recording with sound")
    out = np.zeros(n)
    for t in range(talkers):
        src = usable[t % len(usable)]
        start = int(rng.integers(0, max(1, src.size)))
        piece = np.resize(np.roll(src, -start), n)
        out += piece / np.sqrt(power(piece) + 1e-20)
    return (out / (np.std(out) + 1e-12)).astype(np.float32)


def _fft_convolve(x: NDArray[np.float64], h: NDArray[np.float64]) -> NDArray[np.float64]:
    size = 1 << int(np.ceil(np.log2(x.size + h.size - 1)))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: x.size]


def reverberate(samples: Samples, rt60: float, rng: np.random.Generator, direct_ratio_db: float = 3.0) -> Samples:
    """A room: the direct sound, then a tail of noise decaying by 60 dB in ``rt60`` seconds.

    Args:
        samples: the dry recording.
        rt60: reverberation time in seconds (a small consulting room: 0.3-0.6).
        rng: source of the tail's noise.
        direct_ratio_db: energy of the direct sound over the tail's (a microphone a metre away: a few dB).

    Returns:
        The reverberant recording, same length and power as the input.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0 or rt60 <= 0:
        return x.astype(np.float32)
    length = int(rt60 * SAMPLE_RATE)
    t = np.arange(1, length + 1) / SAMPLE_RATE
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60)  # ln(1000): 60 dB of amplitude at rt60
    tail *= np.sqrt(10.0 ** (-direct_ratio_db / 10.0) / np.sum(tail**2))
    y = _fft_convolve(x, np.concatenate(([1.0], tail)))
    return (y * np.sqrt(power(x) / max(power(y), 1e-20))).astype(np.float32)


def band_pass(samples: Samples, low: float, high: float, edge: float = 100.0) -> Samples:
    """Keep ``low``..``high`` Hz, with raised-cosine edges ``edge`` Hz wide (zero phase, whole-signal FFT)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return x.astype(np.float32)
    freqs = np.fft.rfftfreq(x.size, 1.0 / SAMPLE_RATE)
    rise = np.clip((freqs - (low - edge / 2)) / edge, 0.0, 1.0)
    fall = np.clip(((high + edge / 2) - freqs) / edge, 0.0, 1.0)
    gain = np.sin(0.5 * np.pi * rise) ** 2 * np.sin(0.5 * np.pi * fall) ** 2
    return np.fft.irfft(np.fft.rfft(x) * gain, x.size).astype(np.float32)


def telephone(samples: Samples) -> Samples:
    """The band of a telephone line, 300-3400 Hz."""
    return band_pass(samples, 300.0, 3400.0)


def change_speed(samples: Samples, factor: float) -> Samples:
    """Play ``factor`` times faster (1.15: 15 % faster and higher), by linear resampling; times shrink by it."""
    x = np.asarray(samples, dtype=np.float32)
    if x.size == 0 or factor == 1.0:
        return x.copy()
    n = round(x.size / factor)
    return np.interp(np.arange(n) * factor, np.arange(x.size), x).astype(np.float32)


@dataclass(frozen=True)
class Turn:
    """Where a turn lies in a recording, in seconds."""

    start: float
    end: float


def overlap_turns(samples: Samples, turns: Sequence[Turn], overlap_s: float) -> tuple[Samples, list[Turn]]:
    """Lay the turns again so each starts ``overlap_s`` before the previous one ends (never before it starts).

    What lies before the first turn is kept; the pauses between turns are dropped (the next turn comes in over
    the end of this one). Returns the new samples and where each turn now lies.
    """
    x = np.asarray(samples, dtype=np.float32)
    if not turns:
        return x.copy(), []
    pieces: list[tuple[int, Samples]] = []
    placed: list[Turn] = []
    at = round(turns[0].start * SAMPLE_RATE)
    for i, turn in enumerate(turns):
        a, b = round(turn.start * SAMPLE_RATE), min(x.size, round(turn.end * SAMPLE_RATE))
        piece = x[a:b]
        if i:
            prev_start, prev_end = pieces[-1][0], pieces[-1][0] + pieces[-1][1].size
            at = max(prev_start + 1, prev_end - round(overlap_s * SAMPLE_RATE))
        pieces.append((at, piece))
        placed.append(Turn(round(at / SAMPLE_RATE, 4), round((at + piece.size) / SAMPLE_RATE, 4)))
    out = np.zeros(max(at + p.size for at, p in pieces), np.float32)
    out[: round(turns[0].start * SAMPLE_RATE)] = x[: round(turns[0].start * SAMPLE_RATE)]
    for at, piece in pieces:
        out[at : at + piece.size] += piece
    return out, placed
