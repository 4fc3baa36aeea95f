"""Content-addressed blobs in S3, encrypted at rest, streamed both ways.

Keys follow the local store's scheme (``<prefix>/<sha256[:2]>/<sha256>``), so a
key means the same bytes on either backend. Every write asks for server-side
encryption: SSE-S3 (AES256) by default, SSE-KMS when a key id is configured.
Large streams go through boto3's managed transfer (multipart above
``multipart_threshold``); reads stream with ``iter_chunks``.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import aws_client, error_code, map_error
from backend.adapters.blobs.local import blob_key, check_key
from backend.domain.errors import NotFound

SERVICE = "S3"
CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 16 * 1024 * 1024


class S3BlobStore:
    """BlobStore on one bucket.

    Args:
        bucket: bucket name (``COPILOT_S3_BUCKET``).
        client: a boto3 S3 client; built (adaptive retries) when None.
        kms_key_id: use SSE-KMS with this key (``COPILOT_S3_KMS_KEY_ID``); AES256 otherwise.
        endpoint_url: endpoint for a client built here (``AWS_ENDPOINT_URL`` also works).
        multipart_threshold: streams larger than this are uploaded in parts of this size.
    """

    def __init__(
        self,
        bucket: str,
        client: Any = None,
        kms_key_id: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
    ) -> None:
        self.bucket = bucket
        self.client = aws_client("s3", client, endpoint_url, region)
        self.kms_key_id = kms_key_id or None
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_threshold, use_threads=False
        )

    def _sse(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def _fail(self, e: ClientError | BotoCoreError, key: str) -> Exception:
        if isinstance(e, ClientError) and error_code(e) in ("NoSuchKey", "404", "NotFound"):
            return NotFound(f"The stored file {key} is missing.")
        return map_error(e, SERVICE, f"bucket {self.bucket}")

    def put(self, data: bytes, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        key = blob_key(prefix, hashlib.sha256(data).hexdigest())
        if self.exists(key):
            return key
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **self._sse())
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e
        return key

    def put_stream(self, stream: BinaryIO, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        blob_key(prefix, "0" * 64)  # validate the prefix before reading anything
        # The key is the hash of the content, known only at the end: spool (memory, then disk) while hashing.
        digest = hashlib.sha256()
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
            key = blob_key(prefix, digest.hexdigest())
            if self.exists(key):
                return key
            spool.seek(0)
            try:
                self.client.upload_fileobj(
                    spool,
                    self.bucket,
                    key,
                    ExtraArgs={"ContentType": content_type, **self._sse()},
                    Config=self.transfer,
                )
            except (ClientError, BotoCoreError) as e:
                raise self._fail(e, key) from e
        return key

    def get(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def open(self, key: str) -> Iterator[bytes]:
        check_key(key)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            check_key(key)
        except NotFound:
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as e:
            if error_code(e) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail(e, key) from e
        except BotoCoreError as e:
            raise self._fail(e, key) from e

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e

    def describe(self, key: str) -> dict[str, Any]:
        """Size, encryption and ETag of a stored blob (for the admin page and tests)."""
        check_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e
        return {
            "size": head.get("ContentLength"),
            "content_type": head.get("ContentType"),
            "encryption": head.get("ServerSideEncryption"),
            "kms_key_id": head.get("SSEKMSKeyId"),
            "etag": head.get("ETag", "").strip('"'),
        }
