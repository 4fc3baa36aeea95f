"""An audio codec over 16-bit PCM WAV (the standard library's ``wave``), with the real codec's refusals.

The real codec (PyAV) reads every browser and phone format; this one reads only what tests write with
``encode_wav``. Both refuse empty, oversized, non-audio and over-long files with ``UnsupportedInput``, return
16 kHz mono float32 in [-1, 1], and call a recording silent when it holds under 0.3 s of sound rising above its own noise floor.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray

from backend.domain.errors import UnsupportedInput
from backend.ports import AudioProbe

RATE = 16_000
_FRAME_S = 0.03
_FLOOR_DB = -50.0
_ABOVE_FLOOR_DB = 10.0
_MIN_SOUND_S = 0.3


class FakeCodec:
    def probe(self, data: bytes, max_bytes: int) -> AudioProbe:
        with self._open(data, max_bytes) as w:
            rate, channels, frames = w.getframerate(), w.getnchannels(), w.getnframes()
        return AudioProbe(duration_s=frames / rate, codec="pcm_s16le", sample_rate=rate, channels=channels)

    def decode(self, data: bytes, max_seconds: float, max_bytes: int) -> tuple[NDArray[np.float32], list[str]]:
        with self._open(data, max_bytes) as w:
            rate, channels, declared = w.getframerate(), w.getnchannels(), w.getnframes()
            if declared / rate > max_seconds:
                raise UnsupportedInput(
                    f"The recording is {declared / rate:.0f} s long; the limit is {max_seconds:.0f} s."
                )
            pcm = np.frombuffer(w.readframes(declared), dtype="<i2")
        got = len(pcm) // channels
        mono = pcm[: got * channels].reshape(got, channels).mean(axis=1) / 32768.0
        if rate != RATE:  # linear resampling: enough for test tones and synthetic speech
            times = np.arange(int(got * RATE / rate)) / RATE
            mono = np.interp(times, np.arange(got) / rate, mono)
        if len(mono) < RATE * 0.1:
            raise UnsupportedInput("No sound could be decoded from this file (it may be damaged or cut off).")
        warnings = []
        if got < declared * 0.9:
            warnings.append(f"The audio file seems cut off: only {got / rate:.0f} s of {declared / rate:.0f} s.")
        return np.clip(mono, -1.0, 1.0).astype(np.float32), warnings

    def is_silent(self, samples: NDArray[np.float32]) -> bool:
        # The real codec's rule, in short: frames 10 dB above the recording's own floor (at least -50 dBFS)
        # count as sound, so a steady hum is silence and syllables are not.
        frame = int(RATE * _FRAME_S)
        n = len(samples) // frame
        if n == 0:
            return True
        rms = np.sqrt(np.mean(samples[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
        db = 20 * np.log10(np.maximum(rms, 1e-10))
        loud = db > max(_FLOOR_DB, float(np.percentile(db, 10)) + _ABOVE_FLOOR_DB)
        return bool(np.count_nonzero(loud) * _FRAME_S < _MIN_SOUND_S)

    @staticmethod
    @contextmanager
    def _open(data: bytes, max_bytes: int) -> Iterator[wave.Wave_read]:
        if not data:
            raise UnsupportedInput("The audio file is empty (0 bytes) — record again or choose another file.")
        if len(data) > max_bytes:
            raise UnsupportedInput(f"The audio file is {len(data)} bytes; the limit is {max_bytes} bytes.")
        try:
            reader = wave.open(io.BytesIO(data), "rb")  # noqa: SIM115 (closed below, after the checks)
        except (wave.Error, EOFError) as e:
            raise UnsupportedInput("This kind of audio file cannot be read here — upload a WAV file.") from e
        with reader:
            if reader.getsampwidth() != 2 or reader.getnframes() == 0:
                raise UnsupportedInput("No sound could be decoded from this file (it may be damaged or cut off).")
            yield reader
