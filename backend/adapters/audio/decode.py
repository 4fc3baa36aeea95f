"""Decode uploaded or recorded audio to 16 kHz mono float32 with PyAV (no system ffmpeg).

Accepts what browsers and phones produce: wav, mp3, m4a/aac, ogg (vorbis/opus), webm (opus), flac; the container
is recognised from the bytes and opened with an explicit demuxer, never by FFmpeg's probing (see audio_format).
Every rejection is an :class:`UnsupportedInput` whose message names the problem and the fix.
A truncated file that still yields audio is accepted with a warning (``DecodedAudio.warnings``):
a clinician would rather have most of a consultation than nothing.
"""

from __future__ import annotations

import io
import logging
import struct
import wave
from dataclasses import dataclass, field
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio import formats as audio_format
from backend.domain.errors import UnsupportedInput

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 3600.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ACCEPTED = audio_format.ACCEPTED
# A file whose decoded length falls this far short of what its header promised is reported as truncated.
_TRUNCATION_RATIO = 0.95
# Shorter than this cannot hold a word: treated as "no sound".
_MIN_SECONDS = 0.1
# Damaged packets skipped before a file is given up on.
_MAX_BAD_PACKETS = 50


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about the audio, read without decoding it."""

    duration_s: float | None  # None when the container does not say (raw streams, some webm)
    codec: str
    sample_rate: int
    channels: int
    container: str = ""


@dataclass
class DecodedAudio:
    """Decoded samples plus what was noticed on the way."""

    samples: NDArray[np.float32]
    info: AudioInfo
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def _wav_declared_seconds(data: bytes) -> float | None:
    """Duration a RIFF/WAVE header announces; ffmpeg clamps it to the bytes present, hiding truncation."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt " and pos + 16 <= len(data):
            byte_rate = struct.unpack("<I", data[pos + 16 : pos + 20])[0] if pos + 20 <= len(data) else 0
        elif chunk == b"data":
            # 0 and 0xFFFFFFFF mean "unknown" (streamed WAV): no claim to check against.
            return size / byte_rate if byte_rate and size not in (0, 0xFFFFFFFF) else None
        pos += 8 + size + (size & 1)
    return None


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise UnsupportedInput("The audio file is empty (0 bytes) — record again or choose another file.")
    if len(data) > max_bytes:
        raise UnsupportedInput(
            f"The audio file is {_size(len(data))}; the limit is {_size(max_bytes)} — "
            "split the recording or export it in a compressed format (m4a, mp3, ogg)."
        )


def _open(data: bytes) -> av.container.InputContainer:
    # The demuxer comes from the content, from a whitelist; FFmpeg is never left to guess (see audio_format).
    fmt = audio_format.container_for(data)
    if fmt not in audio_format.WHITELIST:  # container_for only answers from it; kept as a hard stop
        raise UnsupportedInput(f"This kind of audio file cannot be read here — upload {ACCEPTED}.")
    try:
        return av.open(io.BytesIO(data), mode="r", format=fmt, options=dict(audio_format.OPEN_OPTIONS))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        # It starts like an accepted container, so it is damaged rather than foreign.
        raise UnsupportedInput(
            "This audio file is damaged or incomplete (the upload or recording may have been cut off) — "
            "record again or export the file once more."
        ) from e


def _audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise UnsupportedInput(f"This file has no audio track — upload a sound recording ({ACCEPTED}).")
    stream = container.streams.audio[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise UnsupportedInput(f"This audio uses a codec that cannot be decoded here — convert it to {ACCEPTED}.")
    return stream


def _info(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> AudioInfo:
    duration: float | None = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    ctx = stream.codec_context
    return AudioInfo(
        duration_s=duration if duration and duration > 0 else None,
        codec=ctx.name,
        sample_rate=int(ctx.sample_rate or 0),
        channels=int(ctx.channels or 0),
        container=container.format.name,
    )


def _check_duration(duration_s: float | None, max_seconds: float) -> None:
    if duration_s is not None and duration_s > max_seconds:
        raise UnsupportedInput(
            f"The recording is {_minutes(duration_s)} long; the limit is {_minutes(max_seconds)} — "
            "split it into shorter parts."
        )


def probe_audio(data: bytes, max_seconds: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> AudioInfo:
    """Read the container header only: fast validation before the bytes are stored.

    Args:
        data: The file's bytes.
        max_seconds: When given, reject a recording whose header says it is longer.
        max_bytes: Largest accepted file.

    Raises:
        UnsupportedInput: empty, too large, not audio, no audio track, undecodable codec, or too long.
    """
    _check_size(data, max_bytes)
    with _open(data) as container:
        info = _info(container, _audio_stream(container))
    if max_seconds is not None:
        _check_duration(info.duration_s, max_seconds)
    return info


def decode_audio_report(
    data: bytes, max_seconds: float = DEFAULT_MAX_SECONDS, max_bytes: int = DEFAULT_MAX_BYTES
) -> DecodedAudio:
    """Decode ``data`` to 16 kHz mono float32 and report truncation.

    Args:
        data: The file's bytes.
        max_seconds: Longest accepted recording; checked from the header first, then while decoding.
        max_bytes: Largest accepted file.

    Raises:
        UnsupportedInput: see :func:`probe_audio`; also too long, or nothing decodable.
    """
    _check_size(data, max_bytes)
    with _open(data) as container:
        stream = _audio_stream(container)
        info = _info(container, stream)
        _check_duration(info.duration_s, max_seconds)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[NDArray[np.float32]] = []
        total = 0
        limit = int(max_seconds * SAMPLE_RATE) + SAMPLE_RATE  # one second of slack for codec padding
        error: Exception | None = None
        bad_packets = 0
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.error.FFmpegError, ValueError) as e:
                error = e  # the container itself breaks off: keep what was decoded so far
                break
            try:
                frames = stream.decode(packet)
            except (av.error.FFmpegError, ValueError) as e:
                # A damaged packet: skip it and resynchronise, as media players do.
                error, bad_packets = e, bad_packets + 1
                if bad_packets > _MAX_BAD_PACKETS:
                    break
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(chunk)
                    total += len(chunk)
            if total > limit:
                # The header did not tell (or lied): stop before holding an unbounded buffer.
                _check_duration(total / SAMPLE_RATE, max_seconds)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if samples.size < _MIN_SECONDS * SAMPLE_RATE:
        raise UnsupportedInput(
            f"No sound could be decoded from this {info.codec} file (it may be damaged or cut off) — "
            f"record again or upload {ACCEPTED}."
        ) from error
    result = DecodedAudio(samples=np.clip(samples, -1.0, 1.0), info=info)
    expected = _wav_declared_seconds(data) or info.duration_s
    if expected and result.duration_s < expected * _TRUNCATION_RATIO:
        result.truncated = True
        result.warnings.append(
            f"The audio file seems cut off: only {result.duration_s:.0f} s of the {expected:.0f} s its header "
            "announces could be decoded. The transcript covers that part only."
        )
    elif error is not None:
        result.truncated = True
        result.warnings.append(
            "Parts of the audio file are damaged and were skipped; the transcript may miss a few words there."
        )
    if result.warnings:
        log.warning("damaged audio: decoded %.1f s (header %s s), error=%r", result.duration_s, expected, error)
    return result


def decode_audio(
    data: bytes, max_seconds: float = DEFAULT_MAX_SECONDS, max_bytes: int = DEFAULT_MAX_BYTES
) -> NDArray[np.float32]:
    """Decode ``data`` to a 16 kHz mono float32 array in [-1, 1] (see :func:`decode_audio_report`)."""
    return decode_audio_report(data, max_seconds=max_seconds, max_bytes=max_bytes).samples


def _frame_db(samples: NDArray[np.float32], frame: int) -> NDArray[np.float64]:
    n = len(samples) // frame
    if n == 0:
        return np.zeros(0)
    frames = samples[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-10)))


def speech_seconds(samples: NDArray[np.float32], sample_rate: int = SAMPLE_RATE) -> float:
    """Seconds of frames that look like speech: loud enough and clearly above the recording's own noise floor.

    An energy detector, not a neural VAD: steady hiss or hum stays near its floor and does not count,
    while syllables rise 10 dB or more above the pauses between them.
    """
    frame = int(sample_rate * 0.03)
    db = _frame_db(np.asarray(samples, dtype=np.float32), frame)
    if db.size == 0:
        return 0.0
    floor = float(np.percentile(db, 10))
    threshold = max(-50.0, floor + 10.0)
    return float(np.count_nonzero(db > threshold)) * frame / sample_rate


def is_silent(samples: NDArray[np.float32], sample_rate: int = SAMPLE_RATE, min_speech_s: float = 0.3) -> bool:
    """True when the audio holds less than ``min_speech_s`` of speech-like sound (then say "no speech detected")."""
    return speech_seconds(samples, sample_rate) < min_speech_s


detect_speech = speech_seconds


def encode_wav(samples: NDArray[Any], rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM mono WAV of float samples in [-1, 1] (or of int16 samples as they are)."""
    pcm = samples if samples.dtype == np.int16 else np.clip(samples.astype(np.float32), -1.0, 1.0) * 32767.0
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm).astype("<i2").tobytes())
    return buf.getvalue()
