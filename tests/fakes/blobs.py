"""An honest in-memory blob store, content-addressed like the local and S3 ones (same key scheme)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from backend.domain.errors import NotFound

CHUNK = 1024 * 1024  # what the local and S3 stores stream in


class FakeBlobs:
    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    def put(self, data: bytes, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{prefix}/{digest[:2]}/{digest}"
        self.blobs.setdefault(key, (bytes(data), content_type))
        return key

    def put_stream(self, stream: BinaryIO, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        return self.put(stream.read(), content_type, prefix)

    def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise NotFound(f"no blob {key}")
        return self.blobs[key][0]

    def open(self, key: str) -> Iterator[bytes]:
        data = self.get(key)  # raises NotFound now, not at the first chunk, like the real stores
        return iter([data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""])

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
