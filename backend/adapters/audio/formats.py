"""Choose the container demuxer for an uploaded recording from its bytes, never from its name or by probing.

FFmpeg's own probing would also pick demuxers that read other files or open sockets (concat scripts, HLS and
other playlists, SDP session descriptions, image sequences): an "audio" upload that is a concat script makes
the decoder read another recording on the server. So the demuxer is chosen here from the leading bytes, only
among the containers browsers and phones produce, and passed to PyAV explicitly.
"""

from __future__ import annotations

from backend.domain.errors import UnsupportedInput

ACCEPTED = "wav, mp3, m4a, aac, ogg, opus, webm or flac"
# Given to every open: FFmpeg may use no protocol at all (no file, http, udp ...), so even a demuxer that
# knows how to follow a reference inside the file cannot open anything beyond the in-memory upload.
OPEN_OPTIONS = {"protocol_whitelist": "none"}
# FFmpeg demuxer names, one per accepted container (webm is the matroska demuxer).
WHITELIST = frozenset({"wav", "mp3", "ogg", "matroska", "mp4", "aac", "flac"})
# Text files that point FFmpeg at other files or network streams: named in the refusal so it is clear.
_SCRIPT_PREFIXES = (b"ffconcat", b"#extm3u", b"#ext", b"[playlist]", b"v=0", b"file ", b"<?xml", b"<smil", b"<asx")
_ID3_HEADER = 10


def _skip_id3(data: bytes) -> bytes:
    """The bytes after a leading ID3v2 tag (its size is a 28-bit "syncsafe" integer)."""
    if not data.startswith(b"ID3") or len(data) < _ID3_HEADER:
        return data
    size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
    footer = _ID3_HEADER if data[5] & 0x10 else 0
    return data[_ID3_HEADER + size + footer :]


def _frame_sync(data: bytes) -> str | None:
    """``aac`` for an ADTS header, ``mp3`` for an MPEG audio frame header, else None."""
    if len(data) < 2 or data[0] != 0xFF:
        return None
    if data[1] & 0xF6 == 0xF0:  # 12 sync bits, layer 00: ADTS (raw AAC)
        return "aac"
    if data[1] & 0xE0 == 0xE0 and data[1] & 0x06:  # 11 sync bits and a layer (I, II or III)
        return "mp3"
    return None


def sniff_container(data: bytes) -> str | None:
    """The FFmpeg demuxer for ``data`` if it starts like an accepted container, else None."""
    if data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"fLaC"):
        return "flac"
    if data.startswith(b"\x1a\x45\xdf\xa3"):  # EBML header: webm and mkv
        return "matroska"
    if data[4:8] == b"ftyp":  # ISO base media: mp4, m4a, 3gp, mov
        return "mp4"
    if data.startswith(b"ID3"):
        after = _skip_id3(data)
        if after.startswith(b"fLaC"):
            return "flac"
        # Padding or a second tag can follow the first: the MPEG demuxer resynchronises on its own.
        return _frame_sync(after) or "mp3"
    return _frame_sync(data)


def looks_like_script(data: bytes) -> bool:
    """True for a playlist, concat script or session description (text that names other files or streams)."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(_SCRIPT_PREFIXES)


def container_for(data: bytes) -> str:
    """The whitelisted demuxer for ``data``.

    Raises:
        UnsupportedInput: the bytes are a playlist or script, or no accepted audio container.
    """
    fmt = sniff_container(data)
    if fmt is not None:
        return fmt
    if looks_like_script(data):
        raise UnsupportedInput(
            "This file is a playlist or media script that points to other files, not a recording — "
            f"upload the recording itself ({ACCEPTED})."
        )
    raise UnsupportedInput(
        f"This file is not audio that can be read (damaged, or another kind of file renamed) — upload {ACCEPTED}."
    )
