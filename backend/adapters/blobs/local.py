"""Content-addressed blobs in a local directory.

Keys are ``<prefix>/<sha256[:2]>/<sha256>``; writes go to a temp file in the
same directory and are renamed into place, so a reader never sees half a blob.
A key that would resolve outside the root is refused.

With a cipher (a data key is configured) every file is encrypted and authenticated
(``backend/adapters/crypto/blob_format.py``): a changed, truncated or swapped file is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from backend.adapters.crypto.blob_format import HEADER_SIZE, BlobCipher, is_encrypted
from backend.adapters.crypto.errors import DataKeyError
from backend.domain.errors import NotFound, StoreUnavailable, ValidationFailed

_CHUNK = 1024 * 1024
_KEY = re.compile(r"^[a-z0-9_-]{1,32}/[0-9a-f]{2}/[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[a-z0-9_-]{1,32}$")


def blob_key(prefix: str, digest: str) -> str:
    """The key of content with sha256 ``digest`` under ``prefix`` (same scheme for every blob adapter)."""
    if not _PREFIX.match(prefix):
        raise ValidationFailed(f"Invalid blob prefix {prefix!r}.")
    return f"{prefix}/{digest[:2]}/{digest}"


def check_key(key: str) -> str:
    """Refuse keys that are not of our shape (so none can escape the root)."""
    if not _KEY.match(key):
        raise NotFound(f"No stored file with key {key[:80]!r}.")
    return key


class LocalBlobStore:
    """Blobs as files under ``root``; encrypted when ``cipher`` is given."""

    def __init__(self, root: Path, cipher: BlobCipher | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # files are 0600 (mkstemp)
        self.cipher = cipher

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise NotFound(f"No stored file with key {key[:80]!r}.")
        return path

    def put(self, data: bytes, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        key = blob_key(prefix, hashlib.sha256(data).hexdigest())
        path = self._path(key)
        if path.exists():
            return key
        parts: Iterable[bytes] = [data] if self.cipher is None else self.cipher.encrypt([data], key)
        try:
            self._write_atomic(path, parts)
        except OSError as e:
            raise _unavailable(e) from e
        return key

    def put_stream(self, stream: BinaryIO, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        blob_key(prefix, "0" * 64)  # validate the prefix before reading anything
        tmp_dir = self.root / ".incoming"
        tmp_dir.mkdir(mode=0o700, exist_ok=True)
        digest = _KeyOfContent(prefix)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                if self.cipher is not None:
                    self.cipher.encrypt_stream(stream, out, digest)
                else:
                    while chunk := stream.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.key()
            path = self._path(key)
            _owner_only_dirs(path)
            os.replace(tmp_name, path)
            return key
        except OSError as e:
            raise _unavailable(e) from e
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def get(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def open(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in chunks (each decrypted and authenticated before it is yielded).

        Raises:
            NotFound: no such file.
            DataKeyError: the file is encrypted but no key (or another key) is configured.
            TamperedFile: an encrypted file fails authentication.
        """
        path = self._path(key)
        try:
            f = path.open("rb")
        except FileNotFoundError as e:
            raise NotFound(f"The stored file {key} is missing.") from e
        # Checked before returning, so a missing key or a damaged header fails at the call, not mid-stream.
        head = f.read(HEADER_SIZE)
        f.seek(0)
        if self.cipher is None and is_encrypted(head):
            f.close()
            raise DataKeyError(
                f"The stored file {key} is encrypted and no data key is configured. Set COPILOT_DATA_KEY to the "
                "key of this data folder."
            )
        if self.cipher is not None:
            if not self.cipher.owns(head):
                plaintext = list(_decrypted(self.cipher, f, key))  # raises the precise error (wrong key, damaged)
                return iter(plaintext)
            return _decrypted(self.cipher, f, key)
        return _chunks(f)

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except NotFound:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @staticmethod
    def _write_atomic(path: Path, parts: Iterable[bytes]) -> None:
        _owner_only_dirs(path)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    out.write(part)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)


class _KeyOfContent:
    """The blob key of the bytes fed so far (sha256 under a prefix)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.digest = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self.digest.update(data)

    def key(self) -> str:
        return blob_key(self.prefix, self.digest.hexdigest())


def _owner_only_dirs(path: Path) -> None:
    """Create the root, ``<prefix>/`` and ``<xx>/`` above a blob's file, each 0700 (``parents=True`` would not be)."""
    for folder in (path.parent.parent.parent, path.parent.parent, path.parent):
        folder.mkdir(mode=0o700, exist_ok=True)


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    with f:
        while chunk := f.read(_CHUNK):
            yield chunk


def _decrypted(cipher: BlobCipher, f: BinaryIO, key: str) -> Iterator[bytes]:
    with f:
        yield from cipher.decrypt(f, key)


def _unavailable(error: OSError) -> StoreUnavailable:
    """Disk full, read-only or permission problems while writing: nothing was stored."""
    reason = error.strerror or type(error).__name__
    return StoreUnavailable(
        f"The file could not be saved ({reason}); nothing was stored. "
        "Free disk space or check the data folder's permissions, then try again."
    )
