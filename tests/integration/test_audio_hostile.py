"""Audio uploads are opened by their content with a whitelisted demuxer, never by FFmpeg's probing.

An "audio" upload that is an FFmpeg concat script, a playlist or a session description must not make the
decoder read another file on the server or open a socket; real recordings are recognised by their bytes
whatever their name says.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.audio import formats as audio_format
from backend.adapters.audio.decode import SAMPLE_RATE, decode_audio, encode_wav, probe_audio
from backend.adapters.audio.pyav_codec import PyAvCodec
from backend.domain.errors import UnsupportedInput
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import ScribeDeps, submit_recording
from tests.fakes.blobs import FakeBlobs
from tests.fakes.records import fake_record_store
from tests.helpers.speech import encode_audio, tone_bursts

NURSE = Principal("nurse", Role.NURSE)
LIMIT = 50 * 1024 * 1024


def _marker_tone() -> NDArray[np.float32]:
    """A loud 1 kHz tone: a decoder that read this file would return these samples."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)


@pytest.fixture()
def other_recording(tmp_path: Path) -> Iterator[Path]:
    """Another patient's recording on disk, in the working directory, where a relative reference resolves."""
    path = tmp_path / "other.wav"
    path.write_bytes(encode_wav(_marker_tone()))
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield path
    finally:
        os.chdir(cwd)


def _hostile_scripts(other: Path) -> dict[str, bytes]:
    return {
        "concat-relative": b"ffconcat version 1.0\nfile 'other.wav'\n",
        "concat-absolute": f"ffconcat version 1.0\nfile '{other}'\n".encode(),
        "concat-no-header": b"file 'other.wav'\n",
        "hls": b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nother.wav\n#EXT-X-ENDLIST\n",
        "m3u": f"#EXTM3U\n#EXTINF:1,x\nfile://{other}\n".encode(),
        "sdp": b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
        "bom-concat": b"\xef\xbb\xbfffconcat version 1.0\nfile 'other.wav'\n",
    }


@pytest.mark.parametrize(
    "name", ["concat-relative", "concat-absolute", "concat-no-header", "hls", "m3u", "sdp", "bom-concat"]
)
def test_scripts_and_playlists_are_refused_without_reading_other_files(other_recording: Path, name: str) -> None:
    data = _hostile_scripts(other_recording)[name]
    with pytest.raises(UnsupportedInput, match="playlist or media script") as refused:
        decode_audio(data)
    assert "upload the recording itself" in str(refused.value)
    with pytest.raises(UnsupportedInput, match="playlist or media script"):
        probe_audio(data)


def test_probing_alone_would_have_read_the_other_recording(other_recording: Path) -> None:
    """Why the whitelist matters: without an explicit demuxer FFmpeg opens the concat script and follows it."""
    import av

    with av.open(io.BytesIO(b"ffconcat version 1.0\nfile 'other.wav'\n")) as c:
        assert c.format.name == "concat"
    # Even a demuxer that follows references cannot open a file with the options every open uses.
    with pytest.raises(av.error.FFmpegError):
        av.open(
            io.BytesIO(b"ffconcat version 1.0\nfile 'other.wav'\n"),
            format="concat",
            options=dict(audio_format.OPEN_OPTIONS),
        )


def _encoded(fmt: str) -> bytes:
    samples = tone_bursts(1.5)
    if fmt == "wav":
        return encode_wav(samples)
    codec, container, rate = {
        "ogg": ("libopus", "ogg", 48000),
        "mp3": ("libmp3lame", "mp3", 16000),
        "webm": ("libopus", "webm", 48000),
        "m4a": ("aac", "mp4", 16000),
        "flac": ("flac", "flac", 16000),
    }[fmt]
    return encode_audio(samples, container, codec, rate=rate)


@pytest.mark.parametrize(
    ("fmt", "demuxer"),
    [("wav", "wav"), ("ogg", "ogg"), ("mp3", "mp3"), ("webm", "matroska"), ("m4a", "mp4"), ("flac", "flac")],
)
def test_real_recordings_are_recognised_by_their_bytes(fmt: str, demuxer: str) -> None:
    data = _encoded(fmt)
    assert audio_format.sniff_container(data) == demuxer
    samples = decode_audio(data)
    assert abs(len(samples) / SAMPLE_RATE - 1.5) < 0.15
    assert float(np.max(np.abs(samples))) > 0.05  # sound, not silence


def test_id3_tagged_mp3_is_recognised() -> None:
    body = _encoded("mp3")
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 20]) + b"\x00" * 20  # empty 20-byte ID3v2.4 tag
    assert audio_format.sniff_container(tag + body) == "mp3"
    assert len(decode_audio(tag + body)) > SAMPLE_RATE


class _ListQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, job_id: str) -> None:
        self.sent.append(job_id)


@pytest.fixture()
def scribe() -> tuple[ScribeDeps, str, FakeBlobs]:
    stores = fake_record_store()
    pid = register_patient(stores, NURSE, PatientInput(name="Asha Rao")).patient.patient_id
    blobs = FakeBlobs()
    deps = ScribeDeps(
        stores=stores,
        blobs=blobs,  # type: ignore[arg-type]
        queue=_ListQueue(),  # type: ignore[arg-type]
        codec=PyAvCodec(),
        transcriber=None,
        draft=None,
    )
    return deps, pid, blobs


def test_the_name_does_not_choose_the_decoder(scribe: tuple[ScribeDeps, str, FakeBlobs]) -> None:
    deps, pid, blobs = scribe
    mp3 = _encoded("mp3")
    # An mp3 body under a .wav name is judged by its bytes: accepted, and it decodes.
    job = submit_recording(deps, NURSE, pid, mp3, "visit.wav")
    assert (job.codec or "").startswith("mp3")
    samples, _ = deps.codec.decode(blobs.get(job.blob_key), 60, LIMIT)
    assert len(samples) > SAMPLE_RATE
    # A concat script under a .wav name is refused at upload, before anything is stored.
    stored = dict(blobs.blobs)
    with pytest.raises(UnsupportedInput, match="playlist or media script"):
        submit_recording(deps, NURSE, pid, b"ffconcat version 1.0\nfile 'other.wav'\n", "visit.wav")
    assert blobs.blobs == stored


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # image2 / png_pipe demuxers are not reachable
        b"GIF89a" + b"\x00" * 64,
        b"%PDF-1.4\n" + b"\x00" * 64,
        b"\x00\x00\x00\x00" + b"\x00" * 64,
    ],
    ids=["png", "gif", "pdf", "zeros"],
)
def test_other_kinds_of_file_are_not_audio(data: bytes) -> None:
    with pytest.raises(UnsupportedInput, match="not audio"):
        decode_audio(data)
