"""Acoustic features of a recording for telling voices apart (numpy only).

Method: one pass over 16 kHz mono samples, 10 ms hop. Per frame: 19 MFCCs (25 ms Hamming window, 40 mel bands
60-7600 Hz, orthonormal DCT-II, c0 dropped, mean removed over speech frames so the microphone's colour cancels),
log energy, and pitch from the normalised autocorrelation of a 40 ms window (60-400 Hz; a frame is voiced when the
peak is at least 0.45). A span of speech (a word or a run of words) is then described by statistics of its frames:
mean MFCCs and median log-pitch (see :func:`span_vector`). Cost: about 0.7 s of CPU for 6.5 minutes of audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16_000
HOP = 160  # 10 ms
WIN = 400  # 25 ms
PITCH_WIN = 640  # 40 ms: two periods of a 60 Hz voice
N_FFT = 512
N_MELS = 40
N_MFCC = 19  # c1..c19
F0_MIN, F0_MAX = 60.0, 400.0
VOICED_PEAK = 0.45
SPEECH_FLOOR_DB = 35.0  # frames this far below the loud frames are pauses
SILENT_DB = -70.0  # frame level (dB of mean square, full scale 0) below which there is no sound to judge
CHUNK = 8192  # frames per block: bounds memory on long recordings
PITCH_STEP = 2


@dataclass(frozen=True)
class Frames:
    """Per-frame features of a recording (frame ``i`` is centred at ``i * hop / rate`` seconds)."""

    mfcc: NDArray[np.float32]  # (n, N_MFCC), mean over speech frames removed
    log_f0: NDArray[np.float32]  # (n,), NaN where unvoiced
    speech: NDArray[np.bool_]  # (n,), energy above the pause floor
    hop_s: float = HOP / SAMPLE_RATE
    # Loud frames over quiet ones (95th over 10th percentile of frame energy, dB): the pauses of a consultation hold
    # only the room, so this is about the signal-to-noise ratio plus the spread of speech's own level.
    level_range_db: float = 100.0

    def index(self, seconds: float) -> int:
        """Frame index nearest a time, clipped to the recording."""
        return int(min(max(round(seconds / self.hop_s), 0), len(self.speech)))


def _mel_filters() -> NDArray[np.float64]:
    def mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges_mel = np.linspace(mel(np.array(60.0)), mel(np.array(7600.0)), N_MELS + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    fb = np.zeros((N_MELS, freqs.size))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        fb[m] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
    return fb


def _dct_matrix() -> NDArray[np.float64]:
    k = np.arange(1, N_MFCC + 1)[:, None]
    n = np.arange(N_MELS)[None, :]
    return np.sqrt(2.0 / N_MELS) * np.cos(np.pi * k * (2 * n + 1) / (2 * N_MELS))


MEL = _mel_filters()
DCT = _dct_matrix()
HAMMING = np.hamming(WIN)
HANN_PITCH = np.hanning(PITCH_WIN)
# Autocorrelation of the window itself: dividing by it removes the window's taper from the lag peaks.
LAG_MIN, LAG_MAX = int(SAMPLE_RATE / F0_MAX), int(SAMPLE_RATE / F0_MIN)
AC_FFT = 1024  # >= PITCH_WIN + LAG_MAX: no circular wrap-around at the lags searched
_W_AC = np.fft.irfft(np.abs(np.fft.rfft(HANN_PITCH, AC_FFT)) ** 2)[: LAG_MAX + 1]


def _frames(padded: NDArray[np.float32], n: int, width: int) -> NDArray[np.float32]:
    """(n, width) view of ``padded`` (the samples with ``PITCH_WIN`` zeros before): frame ``i`` is centred at
    sample ``i * HOP + HOP // 2``. A view, not a copy: an hour of audio stays an hour of audio in memory."""
    start = PITCH_WIN + HOP // 2 - width // 2
    return np.lib.stride_tricks.sliding_window_view(padded[start:], width)[::HOP][:n]


def _pitch(block: NDArray[np.float32]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(log f0, peak) per frame of a (n, PITCH_WIN) block."""
    spec = np.fft.rfft((block - block.mean(axis=1, keepdims=True)) * HANN_PITCH.astype(np.float32), AC_FFT)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, : LAG_MAX + 1] / _W_AC
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lags = ac[:, LAG_MIN : LAG_MAX + 1]
    best = lags.max(axis=1)
    # The first lag that nearly reaches the best peak: the period, not a multiple of it (octave errors).
    first = np.argmax(lags >= 0.9 * best[:, None], axis=1)
    return np.log(SAMPLE_RATE / (first + LAG_MIN)), best


def frame_features(samples: NDArray[np.float32]) -> Frames:
    """MFCCs, log-pitch and a speech mask for every 10 ms of ``samples`` (16 kHz mono).

    Args:
        samples: float audio in [-1, 1].

    Returns:
        The frames; an empty recording gives zero frames.
    """
    x = np.asarray(samples, dtype=np.float32)
    n = x.size // HOP
    if n == 0:
        return Frames(np.zeros((0, N_MFCC), np.float32), np.zeros(0, np.float32), np.zeros(0, bool))
    padded = np.pad(x, (PITCH_WIN, PITCH_WIN + HOP))
    # Pre-emphasis is applied per window (one sample wider), so no second copy of the recording is made.
    windows, pitch_windows = _frames(padded, n, WIN + 1), _frames(padded, n, PITCH_WIN)
    energy, level = np.empty(n, np.float32), np.empty(n, np.float32)
    for a in range(0, n, CHUNK):
        w = windows[a : a + CHUNK]
        energy[a : a + CHUNK] = 10.0 * np.log10(((w[:, 1:] - 0.97 * w[:, :-1]) ** 2).sum(axis=1) + 1e-10)
        level[a : a + CHUNK] = 10.0 * np.log10((w[:, 1:] ** 2).mean(axis=1) + 1e-10)  # as heard, not pre-emphasised
    speech = energy > np.percentile(energy, 95) - SPEECH_FLOOR_DB
    where = np.flatnonzero(speech)
    mel, dct, hamming = MEL.T.astype(np.float32), DCT.T.astype(np.float32), HAMMING.astype(np.float32)
    mfcc = np.zeros((n, N_MFCC), np.float32)
    log_f0 = np.full(n, np.nan)
    peak = np.zeros(n)
    for a in range(0, where.size, CHUNK):
        idx = where[a : a + CHUNK]
        w = windows[idx]
        power = np.abs(np.fft.rfft((w[:, 1:] - 0.97 * w[:, :-1]) * hamming, N_FFT)).astype(np.float32) ** 2
        mfcc[idx] = np.log(power @ mel + 1e-10) @ dct
        # Pitch every other frame: span statistics and voice models need no finer pitch track.
        even = idx[idx % PITCH_STEP == 0]
        log_f0[even], peak[even] = _pitch(pitch_windows[even])
    if speech.any():
        mfcc[speech] -= mfcc[speech].mean(axis=0)
    voiced = speech & (peak >= VOICED_PEAK)
    log_f0 = np.where(voiced, log_f0, np.nan)
    return Frames(mfcc.astype(np.float32), log_f0.astype(np.float32), speech, level_range_db=level_range(level))


def level_range(level_db: NDArray[np.float32]) -> float:
    """95th over 10th percentile of frame levels in dB (see ``Frames.level_range_db``).

    100 (nothing to judge) for no frames, or when even the loud frames are near digital silence.
    """
    if level_db.size == 0:
        return 100.0
    loud, quiet = np.percentile(level_db, [95, 10])
    return float(loud - quiet) if loud > SILENT_DB else 100.0


def span_vector(frames: Frames, start: float, end: float) -> NDArray[np.float64] | None:
    """Statistics of the speech frames in ``[start, end)``: mean MFCCs, then median log-pitch.

    Returns:
        A vector of ``N_MFCC + 1`` values, or ``None`` when the span holds too little speech (under 50 ms) or
        no voiced frame.
    """
    a, b = frames.index(start), frames.index(end)
    speech = frames.speech[a:b]
    if speech.sum() < 5:
        return None
    f0 = frames.log_f0[a:b]
    f0 = f0[~np.isnan(f0)]
    if f0.size < 3:
        return None
    return np.append(frames.mfcc[a:b][speech].mean(axis=0), np.median(f0)).astype(np.float64)
