"""AudioCodec contract: header checks before anything is stored, 16 kHz mono float32 out, the same refusals.

Only WAV is common to every codec (the fake reads nothing else); the real one's other formats are tested in
``tests/unit/test_audio_decode.py`` and ``tests/integration/test_audio_hostile.py``.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from backend.domain.errors import UnsupportedInput
from backend.ports import AudioCodec
from tests.helpers.speech import tone_bursts as tone

RATE = 16_000
MAX_BYTES = 10 * 1024 * 1024


def _wav(samples: np.ndarray, rate: int = RATE, channels: int = 1) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(pcm, channels).tobytes())  # channels interleaved, the same sound on each
    return buf.getvalue()


def test_probe_reads_the_header(audio_codec: AudioCodec) -> None:
    probe = audio_codec.probe(_wav(tone(2.0)), MAX_BYTES)
    assert probe.duration_s == pytest.approx(2.0, abs=0.05)
    assert (probe.sample_rate, probe.channels) == (RATE, 1)


def test_decode_gives_16k_mono_float_samples(audio_codec: AudioCodec) -> None:
    samples, warnings = audio_codec.decode(_wav(tone(2.0)), max_seconds=60, max_bytes=MAX_BYTES)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(2 * RATE, rel=0.01)
    assert float(np.max(np.abs(samples))) <= 1.0 and warnings == []


def test_stereo_at_another_rate_is_mixed_down_and_resampled(audio_codec: AudioCodec) -> None:
    t = np.arange(2 * 44_100) / 44_100
    samples, _ = audio_codec.decode(_wav(0.3 * np.sin(2 * np.pi * 220 * t), 44_100, 2), 60, MAX_BYTES)
    assert len(samples) == pytest.approx(2 * RATE, rel=0.01)
    assert float(np.sqrt(np.mean(samples**2))) > 0.15  # the sound survives the mix (its gain is the codec's)


@pytest.mark.parametrize(
    ("data", "max_bytes"),
    [(b"", MAX_BYTES), (b"%PDF-1.7 this is not audio" * 40, MAX_BYTES), (_wav(tone(2.0)), 1000)],
    ids=["empty", "not-audio", "too-large"],
)
def test_bad_files_are_refused_at_the_header(audio_codec: AudioCodec, data: bytes, max_bytes: int) -> None:
    with pytest.raises(UnsupportedInput):
        audio_codec.probe(data, max_bytes)
    with pytest.raises(UnsupportedInput):
        audio_codec.decode(data, 60, max_bytes)


def test_a_recording_over_the_length_limit_is_refused(audio_codec: AudioCodec) -> None:
    with pytest.raises(UnsupportedInput):
        audio_codec.decode(_wav(tone(3.0)), max_seconds=2, max_bytes=MAX_BYTES)


def test_a_cut_off_file_decodes_what_is_there_with_a_warning(audio_codec: AudioCodec) -> None:
    whole = _wav(tone(4.0))
    samples, warnings = audio_codec.decode(whole[: len(whole) // 2], 60, MAX_BYTES)
    assert len(samples) == pytest.approx(2 * RATE, rel=0.05)
    assert len(warnings) == 1 and "cut off" in warnings[0]


def test_silence_and_a_steady_hum_hold_no_speech_but_syllables_do(audio_codec: AudioCodec) -> None:
    t = np.arange(3 * RATE) / RATE
    hum = (0.2 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    assert audio_codec.is_silent(np.zeros(3 * RATE, dtype=np.float32))
    assert audio_codec.is_silent(hum)
    assert not audio_codec.is_silent(tone(3.0))
