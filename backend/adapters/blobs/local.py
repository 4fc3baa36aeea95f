"""Content-addressed blobs in a local directory.

Keys are ``<prefix>/<sha256[:2]>/<sha256>``; writes go to a temp file in the
same directory and are renamed into place, so a reader never sees half a blob.
A key that would resolve outside the root is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

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
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

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
        try:
            self._write_atomic(path, [data])
        except OSError as e:
            raise _unavailable(e) from e
        return key

    def put_stream(self, stream: BinaryIO, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        blob_key(prefix, "0" * 64)  # validate the prefix before reading anything
        tmp_dir = self.root / ".incoming"
        tmp_dir.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = blob_key(prefix, digest.hexdigest())
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, path)
            return key
        except OSError as e:
            raise _unavailable(e) from e
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"The stored file {key} is missing.") from e

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.exists():
            raise NotFound(f"The stored file {key} is missing.")

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except NotFound:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @staticmethod
    def _write_atomic(path: Path, parts: list[bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
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


def _unavailable(error: OSError) -> StoreUnavailable:
    """Disk full, read-only or permission problems while writing: nothing was stored."""
    reason = error.strerror or type(error).__name__
    return StoreUnavailable(
        f"The file could not be saved ({reason}); nothing was stored. "
        "Free disk space or check the data folder's permissions, then try again."
    )
