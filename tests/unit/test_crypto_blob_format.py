"""Encrypted blob files: round trips at the segment edges, and every kind of tampering is refused."""

from __future__ import annotations

import io
import random

import pytest

from backend.adapters.crypto.blob_format import HEADER_SIZE, SEGMENT, TAG, BlobCipher
from backend.adapters.crypto.errors import DataKeyError, TamperedFile
from backend.adapters.crypto.keys import DataKey

KEY = "audio/ab/" + "ab" * 32


def _data(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def _seal(cipher: BlobCipher, data: bytes, key: str = KEY) -> bytes:
    return b"".join(cipher.encrypt([data], key))


def _open(cipher: BlobCipher, sealed: bytes, key: str = KEY) -> bytes:
    return b"".join(cipher.decrypt(io.BytesIO(sealed), key))


@pytest.mark.parametrize("n", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT + 7])
def test_round_trip_at_segment_edges(n: int) -> None:
    cipher = BlobCipher(DataKey.generate())
    data = _data(n)
    sealed = _seal(cipher, data)
    assert _open(cipher, sealed) == data
    segments = max(1, -(-n // SEGMENT))
    assert len(sealed) == HEADER_SIZE + n + segments * TAG


def test_streamed_encryption_reads_the_same_as_one_shot() -> None:
    cipher = BlobCipher(DataKey.generate())
    data = _data(SEGMENT + 5)

    class Sha:
        def __init__(self) -> None:
            import hashlib

            self.h = hashlib.sha256()

        def update(self, chunk: bytes) -> None:
            self.h.update(chunk)

        def key(self) -> str:
            d = self.h.hexdigest()
            return f"audio/{d[:2]}/{d}"

    out = io.BytesIO()
    key = cipher.encrypt_stream(io.BytesIO(data), out, Sha())
    assert _open(cipher, out.getvalue(), key) == data


def test_each_write_uses_a_fresh_salt_and_nonce() -> None:
    cipher = BlobCipher(DataKey.generate())
    a, b = _seal(cipher, b"same bytes"), _seal(cipher, b"same bytes")
    assert a[:13] == b[:13]  # magic, format, key id
    assert a[13:HEADER_SIZE] != b[13:HEADER_SIZE]  # salt and nonce prefix
    assert a[HEADER_SIZE:] != b[HEADER_SIZE:]


def test_plaintext_does_not_appear_in_the_file() -> None:
    sealed = _seal(BlobCipher(DataKey.generate()), b"Patient: Zebulon Quackenbush, metformin 500 mg")
    assert b"Zebulon" not in sealed and b"metformin" not in sealed


def test_a_flipped_bit_anywhere_is_refused() -> None:
    cipher = BlobCipher(DataKey.generate())
    sealed = bytearray(_seal(cipher, _data(SEGMENT + 100)))
    for position in (14, HEADER_SIZE, HEADER_SIZE + SEGMENT // 2, len(sealed) - 1):  # salt, segments, last tag
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(TamperedFile, match="failed its integrity check"):
            _open(cipher, bytes(tampered))


def test_truncation_at_a_segment_boundary_is_refused() -> None:
    cipher = BlobCipher(DataKey.generate())
    sealed = _seal(cipher, _data(2 * SEGMENT + 10))
    with pytest.raises(TamperedFile):
        _open(cipher, sealed[: HEADER_SIZE + SEGMENT + TAG])  # a whole first segment, nothing after it


def test_appended_bytes_are_refused() -> None:
    cipher = BlobCipher(DataKey.generate())
    with pytest.raises(TamperedFile):
        _open(cipher, _seal(cipher, b"short") + b"\0" * 16)


def test_a_valid_file_under_another_name_is_refused() -> None:
    cipher = BlobCipher(DataKey.generate())
    sealed = _seal(cipher, b"one patient's recording")
    with pytest.raises(TamperedFile):
        _open(cipher, sealed, "audio/cd/" + "cd" * 32)


def test_another_key_is_reported_as_a_wrong_key_not_as_damage() -> None:
    sealed = _seal(BlobCipher(DataKey.generate()), b"x")
    with pytest.raises(DataKeyError, match="encrypted with another data key"):
        _open(BlobCipher(DataKey.generate()), sealed)


def test_a_plain_file_is_not_taken_for_an_encrypted_one() -> None:
    cipher = BlobCipher(DataKey.generate())
    with pytest.raises(TamperedFile):
        _open(cipher, b"RIFF....WAVEfmt " + bytes(64))
    assert not cipher.owns(b"RIFF....WAVEfmt " + bytes(64))
    assert cipher.owns(_seal(cipher, b"x")[:HEADER_SIZE])
