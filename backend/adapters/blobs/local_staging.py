"""Direct uploads without S3: a form POST to the API, checked like S3 checks a presigned POST, staged on disk.

The form's policy is signed with the server's upload secret (``upload_policy.sign_policy``); the staged file is
encrypted with the data key when the data folder is, and a small side file keeps its type and metadata.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from backend.adapters.crypto import BlobCipher
from backend.domain.errors import NotFound, StoreUnavailable, UnsupportedInput, ValidationFailed
from backend.domain.upload_policy import REQUESTER_FIELD, check_form, is_staging_key, sign_policy
from backend.ports import PresignedPost, StagedObject

FORM_PATH = "/v1/uploads:form"


class LocalUploadStaging:
    """Args: root: the staging folder; secret: the upload secret; cipher: the data folder's, when encrypted."""

    def __init__(self, root: Path, secret: bytes, cipher: BlobCipher | None = None) -> None:
        self.root = Path(root)
        self._secret = secret
        self._cipher = cipher

    def _path(self, key: str) -> Path:
        if not is_staging_key(key):
            raise ValidationFailed("Not a staging key.")
        return self.root / key

    def encryption_fields(self) -> dict[str, str]:
        return {}

    def presign(self, key: str, fields: dict[str, str], conditions: list[Any], expires_in: int) -> PresignedPost:
        expiry = int(time.time()) + expires_in
        return PresignedPost(FORM_PATH, {**fields, **sign_policy(self._secret, conditions, expiry)})

    def accept_form(
        self, fields: dict[str, str], content_type: str, data: bytes, now: float
    ) -> tuple[str, StagedObject]:
        """Check a form against its signed policy and stage its file; returns its key and what was staged.

        Raises:
            UploadRefused: the form breaks its policy (see ``check_form``).
        """
        key = check_form(self._secret, fields, content_type, len(data), now)
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = data if self._cipher is None else b"".join(self._cipher.encrypt([data], key))
        meta = {"size": len(data), "content_type": content_type, "metadata": {"requested-by": fields[REQUESTER_FIELD]}}
        try:
            _write(path.with_suffix(".meta"), json.dumps(meta).encode())
            _write(path, body)
        except OSError as e:
            raise StoreUnavailable(f"The upload could not be stored ({e.strerror}).") from e
        return key, StagedObject(len(data), content_type, {"requested-by": fields[REQUESTER_FIELD]})

    def head(self, key: str) -> StagedObject:
        path = self._path(key)
        try:
            meta = json.loads(path.with_suffix(".meta").read_bytes())
        except FileNotFoundError as e:
            raise NotFound(f"No staged upload {key}.") from e
        if not path.exists():
            raise NotFound(f"No staged upload {key}.")
        return StagedObject(int(meta["size"]), str(meta["content_type"]), dict(meta["metadata"]))

    def read(self, key: str, max_bytes: int) -> bytes:
        path = self._path(key)
        if self.head(key).size > max_bytes:
            raise UnsupportedInput(f"The upload is over {max_bytes // (1024 * 1024)} MB.")
        if self._cipher is None:
            return path.read_bytes()
        with path.open("rb") as f:
            return b"".join(self._cipher.decrypt(f, key))

    def delete(self, key: str) -> None:
        path = self._path(key)
        for p in (path, path.with_suffix(".meta")):
            p.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
