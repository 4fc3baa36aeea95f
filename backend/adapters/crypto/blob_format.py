"""Encrypted blob files, format 1: AES-256-GCM in 1 MiB segments (the STREAM construction).

Layout: a 36-byte header, then the segments::

    b"CCPB" | format (1 byte) | key id (8) | salt (16) | nonce prefix (7)
    segment_0 | segment_1 | ... | segment_last        each = ciphertext + 16-byte GCM tag

Every write draws a fresh random salt and nonce prefix: the file's own AES key is HKDF(blob key, salt), and
segment ``i`` uses the nonce ``prefix | i (4 bytes) | last (1 byte)``, so no nonce is ever reused under a key.
The header is authenticated with every segment; the last segment is marked as last and also authenticates the
blob's key (``prefix/sha256``). A changed byte, a truncated or extended file, reordered segments, or a valid
file moved to another key's name all fail authentication, and the file is refused.

Segments are decrypted one at a time, so a long recording is never held in memory whole.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.adapters.crypto.errors import DataKeyError, TamperedFile
from backend.adapters.crypto.keys import DataKey, derive

MAGIC = b"CCPB"
FORMAT = 1
SEGMENT = 1024 * 1024
TAG = 16
_HEADER = struct.Struct(">4sB8s16s7s")
HEADER_SIZE = _HEADER.size


def is_encrypted(head: bytes) -> bool:
    """True when a file starting with ``head`` is an encrypted blob (of any format version)."""
    return head[: len(MAGIC)] == MAGIC


class KeyOfContent(Protocol):
    """What :meth:`BlobCipher.encrypt_stream` needs from the store: a digest fed as it reads, then the key."""

    def update(self, data: bytes) -> None: ...

    def key(self) -> str: ...


@dataclass(frozen=True)
class _Header:
    version: int
    key_id: bytes
    salt: bytes
    prefix: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, self.version, self.key_id, self.salt, self.prefix)


class BlobCipher:
    """Encrypts and decrypts blob files with one data key."""

    def __init__(self, key: DataKey) -> None:
        self._root = key.blob_key()
        self._key_id = bytes.fromhex(key.key_id)
        self.key_id = key.key_id

    def _aead(self, salt: bytes) -> AESGCM:
        return AESGCM(derive(self._root, "blob file", salt=salt))

    def encrypt(self, chunks: Iterable[bytes], blob_key: str) -> Iterator[bytes]:
        """Encrypt a stream of plaintext ``chunks`` stored under ``blob_key``: the header, then each segment.

        Args:
            chunks: the plaintext, in pieces of any size.
            blob_key: the key the file is stored under (authenticated by the last segment).
        """
        return self._seal(chunks, lambda: blob_key)

    def encrypt_stream(self, stream: BinaryIO, out: BinaryIO, key_of: KeyOfContent) -> str:
        """Encrypt ``stream`` into ``out`` while ``key_of`` digests it; returns the blob key.

        The last segment must authenticate the blob key, which is known only when the input ends: segments are
        written as they fill, and the final one once ``key_of`` has seen every byte.
        """

        def pieces() -> Iterator[bytes]:
            while chunk := stream.read(SEGMENT):
                key_of.update(chunk)
                yield chunk

        for part in self._seal(pieces(), key_of.key):
            out.write(part)
        return key_of.key()

    def _seal(self, chunks: Iterable[bytes], final_key: Callable[[], str]) -> Iterator[bytes]:
        header = _Header(FORMAT, self._key_id, os.urandom(16), os.urandom(7))
        head = header.pack()
        yield head
        aead = self._aead(header.salt)
        index = 0
        pending = bytearray()
        for chunk in chunks:
            pending += chunk
            # Keep at least one byte back: the last segment is only known when the input ends.
            full = (len(pending) - 1) // SEGMENT
            if full <= 0:
                continue
            with memoryview(pending) as view:
                for n in range(full):
                    with view[n * SEGMENT : (n + 1) * SEGMENT] as segment:
                        sealed = aead.encrypt(_nonce(header.prefix, index, False), segment, head)
                    yield sealed
                    index += 1
            del pending[: full * SEGMENT]  # one move per input chunk, never one per segment
        final_aad = head + final_key().encode()
        yield aead.encrypt(_nonce(header.prefix, index, True), bytes(pending), final_aad)

    def decrypt(self, f: BinaryIO, blob_key: str) -> Iterator[bytes]:
        """Plaintext segments of the encrypted file ``f`` stored under ``blob_key``.

        Raises:
            DataKeyError: the file was encrypted with another key (or by a newer version).
            TamperedFile: a segment fails authentication (checked before it is yielded).
        """
        head = f.read(HEADER_SIZE)
        header = self._header(head, blob_key)
        aead = self._aead(header.salt)
        index = 0
        block = f.read(SEGMENT + TAG)
        while True:
            following = f.read(SEGMENT + TAG) if len(block) == SEGMENT + TAG else b""
            last = not following
            aad = head + blob_key.encode() if last else head
            try:
                yield aead.decrypt(_nonce(header.prefix, index, last), block, aad)
            except InvalidTag as e:
                raise _tampered(blob_key) from e
            if last:
                return
            block, index = following, index + 1

    def _header(self, head: bytes, blob_key: str) -> _Header:
        if len(head) < HEADER_SIZE or not is_encrypted(head):
            raise _tampered(blob_key)
        _magic, version, key_id, salt, prefix = _HEADER.unpack(head)
        if version != FORMAT:
            raise DataKeyError(
                f"The stored file {blob_key} was written in encryption format {version}; this version reads "
                f"format {FORMAT}. Update the app."
            )
        if key_id != self._key_id:
            raise DataKeyError(
                f"The stored file {blob_key} was encrypted with another data key (id {key_id.hex()}, the "
                f"configured key is {self.key_id}). Set COPILOT_DATA_KEY to the key this data folder was made with."
            )
        return _Header(version, key_id, salt, prefix)

    def owns(self, head: bytes) -> bool:
        """True when ``head`` starts a file encrypted with this key in this format (authenticity is not checked)."""
        return len(head) >= HEADER_SIZE and is_encrypted(head) and head[4] == FORMAT and head[5:13] == self._key_id


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise TamperedFile("A stored file is too long for its encryption format (over 4 PiB).")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _tampered(blob_key: str) -> TamperedFile:
    return TamperedFile(
        f"The stored file {blob_key} failed its integrity check: it was changed, cut short or damaged on disk, "
        "so it was not used. Restore it from a backup."
    )
