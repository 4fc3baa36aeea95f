"""S3-only guarantees beyond the BlobStore contract: encryption at rest, multipart for large streams."""

from __future__ import annotations

import io
import random
import uuid

from backend.adapters.blobs.s3 import S3BlobStore
from tests.helpers.aws_servers import client, moto_endpoint


def _bucket() -> tuple[object, str]:
    s3 = client("s3", moto_endpoint())
    name = f"sse-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return s3, name


def test_default_encryption_is_aes256_and_large_streams_go_multipart() -> None:
    s3, bucket = _bucket()
    store = S3BlobStore(bucket, client=s3, multipart_threshold=5 * 1024 * 1024)
    small = store.describe(store.put(b"tiny", "text/plain"))
    assert (small["encryption"], small["content_type"]) == ("AES256", "text/plain")
    big = store.describe(
        store.put_stream(io.BytesIO(random.Random(12).randbytes(12 * 1024 * 1024)), "audio/webm", prefix="audio")
    )
    assert big["encryption"] == "AES256" and big["size"] == 12 * 1024 * 1024
    assert big["etag"].endswith("-3")  # three parts of 5 MB, 5 MB, 2 MB


def test_kms_key_from_config_is_used() -> None:
    s3, bucket = _bucket()
    store = S3BlobStore(bucket, client=s3, kms_key_id="alias/copilot-blobs")
    info = store.describe(store.put(b"secret scan", "image/png", prefix="doc"))
    assert info["encryption"] == "aws:kms"
    assert "copilot-blobs" in str(info["kms_key_id"])
