"""Audio decoding: every accepted format decodes to 16 kHz mono; every bad input gets a clear UnsupportedInput."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from backend.adapters.audio.decode import (
    SAMPLE_RATE,
    decode_audio,
    decode_audio_report,
    is_silent,
    probe_audio,
    speech_seconds,
)
from backend.domain.errors import UnsupportedInput
from tests.helpers.speech import encode_audio, tone_bursts, wav_bytes


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return tone_bursts(seconds=4.0)


@pytest.fixture(scope="module")
def wav(signal: np.ndarray) -> bytes:
    return wav_bytes(signal)


def test_wav_decodes_to_16k_mono_float32_in_range(wav: bytes, signal: np.ndarray) -> None:
    samples = decode_audio(wav)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert len(samples) == len(signal)
    assert np.abs(samples).max() <= 1.0
    assert np.allclose(samples, signal, atol=1e-3)


def test_stereo_44k_wav_is_downmixed_and_resampled(signal: np.ndarray) -> None:
    buf = io.BytesIO()
    import wave

    stereo = np.repeat(np.interp(np.arange(0, len(signal), 16_000 / 44_100), np.arange(len(signal)), signal), 2)
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes((stereo * 32767).astype("<i2").tobytes())
    samples = decode_audio(buf.getvalue())
    assert abs(len(samples) / SAMPLE_RATE - 4.0) < 0.05


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "layout", "codec_name"),
    [
        ("webm", "libopus", 48_000, "mono", "opus"),  # what browsers record
        ("ogg", "libopus", 48_000, "mono", "opus"),
        ("ogg", "vorbis", 16_000, "stereo", "vorbis"),
        ("mp3", "libmp3lame", 16_000, "mono", "mp3"),
        ("ipod", "aac", 16_000, "mono", "aac"),  # .m4a from phones
        ("adts", "aac", 16_000, "mono", "aac"),
        ("flac", "flac", 16_000, "mono", "flac"),
    ],
)
def test_compressed_formats_decode(
    signal: np.ndarray, fmt: str, codec: str, rate: int, layout: str, codec_name: str
) -> None:
    data = encode_audio(signal, fmt, codec, rate, layout)
    info = probe_audio(data)
    assert info.codec.startswith(codec_name)
    result = decode_audio_report(data)
    assert abs(result.duration_s - 4.0) < 0.15
    assert not result.truncated
    # The content survives: energy still follows the bursts (lossy codecs blur the edges a little).
    assert not is_silent(result.samples)


def test_probe_reports_duration_without_decoding(wav: bytes) -> None:
    info = probe_audio(wav)
    assert info.duration_s == pytest.approx(4.0, abs=0.01)
    assert (info.sample_rate, info.channels, info.codec) == (SAMPLE_RATE, 1, "pcm_s16le")


def test_empty_input_is_rejected() -> None:
    with pytest.raises(UnsupportedInput, match="empty"):
        decode_audio(b"")
    with pytest.raises(UnsupportedInput, match="empty"):
        probe_audio(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"Patient: John Doe\nThis is a text file renamed to visit.wav\n" * 20,
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        bytes(range(256)) * 20,
    ],
    ids=["text", "pdf", "binary"],
)
def test_non_audio_bytes_are_rejected(data: bytes) -> None:
    with pytest.raises(UnsupportedInput, match="not audio"):
        decode_audio(data)


def test_image_is_refused_without_an_image_demuxer() -> None:
    # Containers are chosen from a whitelist by content: FFmpeg's image demuxers are never reached.
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buf, "PNG")
    with pytest.raises(UnsupportedInput, match="not audio"):
        probe_audio(buf.getvalue())


def test_truncated_wav_is_accepted_with_a_warning(wav: bytes) -> None:
    result = decode_audio_report(wav[: len(wav) // 2])
    assert result.truncated
    assert 1.5 < result.duration_s < 2.5
    assert "cut off" in result.warnings[0]


def test_truncated_mp3_is_accepted_with_a_warning(signal: np.ndarray) -> None:
    data = encode_audio(signal, "mp3", "libmp3lame")
    result = decode_audio_report(data[: len(data) // 2])
    assert result.truncated
    assert 1.0 < result.duration_s < 3.0


def test_header_only_wav_has_no_sound(wav: bytes) -> None:
    with pytest.raises(UnsupportedInput, match="No sound could be decoded"):
        decode_audio(wav[:46])


def test_m4a_cut_before_its_index_is_reported_damaged(signal: np.ndarray) -> None:
    data = encode_audio(signal, "ipod", "aac")
    with pytest.raises(UnsupportedInput, match="damaged or incomplete"):
        decode_audio(data[: len(data) // 2])


def test_corrupted_middle_skips_bad_packets(signal: np.ndarray) -> None:
    data = bytearray(encode_audio(signal, "mp3", "libmp3lame"))
    third = len(data) // 3
    data[third : third + 400] = np.random.default_rng(7).bytes(400)
    result = decode_audio_report(bytes(data))
    assert result.truncated
    assert result.duration_s > 3.0  # most of the file survives: damaged packets are skipped, not fatal
    assert result.warnings


def test_unknown_codec_is_rejected(wav: bytes) -> None:
    data = bytearray(wav)
    data[20:22] = struct.pack("<H", 0x7777)  # WAVE format tag nobody implements
    with pytest.raises(UnsupportedInput, match="codec"):
        decode_audio(bytes(data))


def test_too_long_is_rejected_from_the_header(wav: bytes) -> None:
    with pytest.raises(UnsupportedInput, match=r"4 seconds long; the limit is 2 seconds"):
        decode_audio(wav, max_seconds=2)
    with pytest.raises(UnsupportedInput, match="limit"):
        probe_audio(wav, max_seconds=3.5)
    assert probe_audio(wav, max_seconds=60).duration_s == pytest.approx(4.0, abs=0.01)


def test_too_long_is_caught_while_decoding_when_the_header_does_not_say(signal: np.ndarray) -> None:
    # A streamed WAV declares an unknown length (0xFFFFFFFF): only decoding can tell.
    data = bytearray(wav_bytes(np.tile(signal, 3)))
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(UnsupportedInput, match="limit"):
        decode_audio(bytes(data), max_seconds=5)


def test_too_large_is_rejected_before_decoding(wav: bytes) -> None:
    with pytest.raises(UnsupportedInput, match=r"KB; the limit is 1 KB"):
        decode_audio(wav, max_bytes=1024)


def test_silence_and_steady_noise_are_silent() -> None:
    assert is_silent(np.zeros(SAMPLE_RATE * 3, dtype=np.float32))
    assert is_silent(np.zeros(0, dtype=np.float32))
    hiss = (np.random.default_rng(1).standard_normal(SAMPLE_RATE * 3) * 0.05).astype(np.float32)
    assert is_silent(hiss)
    assert is_silent((np.random.default_rng(2).standard_normal(SAMPLE_RATE * 3) * 1e-4).astype(np.float32))


def test_bursts_over_noise_are_speech() -> None:
    hiss = (np.random.default_rng(3).standard_normal(SAMPLE_RATE * 3) * 0.01).astype(np.float32)
    mixed = tone_bursts(3.0) + hiss
    assert not is_silent(mixed)
    assert speech_seconds(mixed) == pytest.approx(1.5, abs=0.3)


def test_silent_wav_file_decodes_and_is_silent() -> None:
    samples = decode_audio(wav_bytes(np.zeros(SAMPLE_RATE * 2, dtype=np.float32)))
    assert len(samples) == SAMPLE_RATE * 2
    assert is_silent(samples)
