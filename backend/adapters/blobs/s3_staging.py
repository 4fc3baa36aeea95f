"""Direct uploads to S3: presigned POST forms for the staging keys, and reading what arrived.

With ``COPILOT_S3_KMS_KEY_ID`` set, every form asks for SSE-KMS with that key and the policy pins it, so an
upload without it is refused by S3 (the deployed bucket refuses SSE-S3 uploads); without a key id the form
asks for nothing and the bucket's default encryption applies.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import aws_client, error_code, map_error
from backend.domain.errors import NotFound, UnsupportedInput
from backend.ports import PresignedPost, StagedObject

SERVICE = "S3"


class S3UploadStaging:
    """Args: bucket: ``COPILOT_S3_BUCKET``; client: a boto3 S3 client (built when None); kms_key_id: SSE-KMS key."""

    def __init__(
        self,
        bucket: str,
        client: Any = None,
        kms_key_id: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.client = aws_client("s3", client, endpoint_url, region)
        self.kms_key_id = kms_key_id or None

    def encryption_fields(self) -> dict[str, str]:
        if self.kms_key_id:
            return {
                "x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id,
            }
        return {}  # the bucket's default encryption applies (a bucket may refuse an explicit SSE-S3 request)

    def presign(self, key: str, fields: dict[str, str], conditions: list[Any], expires_in: int) -> PresignedPost:
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={k: v for k, v in fields.items() if k != "key"},
                Conditions=[c for c in conditions if not (isinstance(c, dict) and "key" in c)],
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as e:
            raise map_error(e, SERVICE, f"bucket {self.bucket}") from e
        return PresignedPost(str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()})

    def head(self, key: str) -> StagedObject:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e
        return StagedObject(
            int(head["ContentLength"]), str(head.get("ContentType", "")), dict(head.get("Metadata", {}))
        )

    def read(self, key: str, max_bytes: int) -> bytes:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read(max_bytes + 1)
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e
        if len(data) > max_bytes:
            raise UnsupportedInput(f"The upload is over {max_bytes // (1024 * 1024)} MB.")
        return data

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise self._fail(e, key) from e

    def _fail(self, e: ClientError | BotoCoreError, key: str) -> Exception:
        if isinstance(e, ClientError) and error_code(e) in ("NoSuchKey", "404", "NotFound"):
            return NotFound(f"No staged upload {key}.")
        return map_error(e, SERVICE, f"bucket {self.bucket}")
