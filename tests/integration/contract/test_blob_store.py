"""BlobStore contract: content-addressed keys (same scheme everywhere), streaming, NotFound."""

from __future__ import annotations

import hashlib
import io
import random

import pytest

from backend.domain.errors import NotFound
from backend.ports import BlobStore


def test_put_is_content_addressed_and_idempotent(blob_store: BlobStore) -> None:
    data = b"RIFF....WAVEfmt fake audio"
    digest = hashlib.sha256(data).hexdigest()
    key = blob_store.put(data, "audio/wav", prefix="audio")
    assert key == f"audio/{digest[:2]}/{digest}"
    assert blob_store.put(data, "audio/wav", prefix="audio") == key
    assert blob_store.get(key) == data
    assert blob_store.exists(key)


def test_stream_in_and_out_of_a_large_blob(blob_store: BlobStore) -> None:
    data = random.Random(11).randbytes(11 * 1024 * 1024 + 7)  # over the multipart threshold of the S3 fixture
    key = blob_store.put_stream(io.BytesIO(data), "application/pdf", prefix="doc")
    assert key.endswith(hashlib.sha256(data).hexdigest())
    chunks = list(blob_store.open(key))
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 8 * 1024 * 1024
    assert b"".join(chunks) == data
    assert blob_store.put(data, prefix="doc") == key


def test_missing_and_deleted(blob_store: BlobStore) -> None:
    missing = "blob/00/" + "0" * 64
    assert not blob_store.exists(missing)
    with pytest.raises(NotFound):
        blob_store.get(missing)
    with pytest.raises(NotFound):
        blob_store.open(missing)
    assert not blob_store.exists("../../etc/passwd")
    key = blob_store.put(b"to delete")
    blob_store.delete(key)
    assert not blob_store.exists(key)
    with pytest.raises(NotFound):
        blob_store.get(key)
