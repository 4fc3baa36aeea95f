"""Speech for tests: espeak-ng renders text, PyAV resamples it to 16 kHz mono.

Usage::

    from tests.helpers.speech import synth_wav, synth_samples
    path = synth_wav("The patient takes metformin", tmp_path / "a.wav", voice="en-gb")
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio_decode import decode_audio

SAMPLE_RATE = 16_000


def espeak_available() -> bool:
    """True when the ``espeak-ng`` program is on PATH (tests skip with a reason otherwise)."""
    return shutil.which("espeak-ng") is not None


def write_wav(samples: NDArray[np.float32], path: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float samples in [-1, 1] as 16-bit mono PCM WAV (stdlib ``wave``)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return Path(path)


def wav_bytes(samples: NDArray[np.float32], sample_rate: int = SAMPLE_RATE) -> bytes:
    """Like :func:`write_wav` but returns the file's bytes."""
    buf = io.BytesIO()
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def synth_samples(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> NDArray[np.float32]:
    """16 kHz mono float32 speech for ``text`` (espeak-ng writes 22.05 kHz; we resample)."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), "--", text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        # PyAV's resampler (libswresample) does the 22.05 -> 16 kHz conversion properly.
        return decode_audio(raw.read_bytes())


def synth_wav(text: str, path: Path, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> Path:
    """Speak ``text`` with espeak-ng into a 16 kHz mono 16-bit WAV at ``path``; returns ``path``."""
    return write_wav(synth_samples(text, voice=voice, speed=speed, pitch=pitch), Path(path))
