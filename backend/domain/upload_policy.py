"""Direct uploads, pure rules: the staging key that names a pending upload, the POST policy (size, type,
expiry), the server's signature over both, and the S3 event format that announces an object's arrival.

A pending upload is not stored anywhere: its key carries an HMAC over (patient, upload id, requester), so an
object whose key the server did not sign is an unknown upload. The upload id carries its expiry, and its job
id is derived from it, so a repeated arrival finds the job it already made.

Key: ``uploads/<patient_id>/UPL_<16 hex>_<expires epoch s>/<signature>``; the requester travels as the
object's metadata ``x-amz-meta-requested-by`` (fixed by the policy, so it cannot be changed by the uploader).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from backend.domain.errors import ValidationFailed

PREFIX = "uploads"
AUDIO_TYPE_PREFIX = "audio/"
REQUESTER_FIELD = "x-amz-meta-requested-by"
SIGNATURE_FIELD = "x-copilot-signature"  # the local form's signature over the base64 policy
_UPLOAD_ID = re.compile(r"^UPL_([0-9a-f]{16})_([0-9]{9,11})$")
_KEY = re.compile(r"^uploads/(PAT_[A-Za-z0-9]{1,32})/(UPL_[0-9a-f]{16}_[0-9]{9,11})/([0-9a-f]{32})$")


class UploadRefused(ValidationFailed):
    """A form or an arrived object that breaks the upload's policy (the message says which rule)."""


@dataclass(frozen=True)
class PendingUpload:
    """An upload the server signed: where the object must go and who asked for it."""

    upload_id: str
    patient_id: str
    requested_by: str
    key: str

    @property
    def job_id(self) -> str:
        """The job the object becomes (the same for every delivery of its arrival)."""
        return job_id_of(self.upload_id)


@dataclass(frozen=True)
class Arrival:
    """One object-created record of an S3 event."""

    bucket: str
    key: str
    size: int
    event_name: str


def new_upload(secret: bytes, patient_id: str, requested_by: str, expires_at: int) -> PendingUpload:
    """A fresh pending upload for ``patient_id`` that expires at ``expires_at`` (epoch seconds)."""
    upload_id = f"UPL_{secrets.token_hex(8)}_{int(expires_at)}"
    return PendingUpload(upload_id, patient_id, requested_by, _key(secret, patient_id, upload_id, requested_by))


def expires_at(upload_id: str) -> int:
    """The expiry (epoch seconds) an upload id carries; ValidationFailed for a malformed id."""
    match = _UPLOAD_ID.match(upload_id)
    if match is None:
        raise ValidationFailed("That is not an upload id (UPL_…).")
    return int(match.group(2))


def job_id_of(upload_id: str) -> str:
    """The job id an upload id becomes."""
    expires_at(upload_id)
    return "JOB_" + upload_id[4:20]


def verify_key(secret: bytes, key: str, requested_by: str) -> PendingUpload:
    """The pending upload a staged object's key names, if the server signed it for ``requested_by``.

    Raises:
        UploadRefused: the key is not a staging key, or its signature does not match (an unknown upload).
    """
    match = _KEY.match(key)
    if match is None:
        raise UploadRefused("The object is not under a pending upload's key.")
    patient_id, upload_id, _ = match.groups()
    expected = _key(secret, patient_id, upload_id, requested_by)
    if not hmac.compare_digest(expected.encode(), key.encode()):  # bytes: a key may hold any character
        raise UploadRefused("The object's key was not issued by this server (an unknown upload).")
    return PendingUpload(upload_id, patient_id, requested_by, key)


def is_staging_key(key: str) -> bool:
    """True for a key of the form a pending upload's object has (signed or not)."""
    return _KEY.match(key) is not None


def post_conditions(upload: PendingUpload, max_bytes: int, extra_fields: dict[str, str]) -> list[Any]:
    """The POST policy's conditions: this key, this requester, an audio type, at most ``max_bytes``."""
    fixed = {"key": upload.key, REQUESTER_FIELD: upload.requested_by, **extra_fields}
    return [
        *({name: value} for name, value in fixed.items()),
        ["starts-with", "$Content-Type", AUDIO_TYPE_PREFIX],
        ["content-length-range", 1, max_bytes],
    ]


def sign_policy(secret: bytes, conditions: list[Any], expires_at: int) -> dict[str, str]:
    """The local form's ``policy`` and signature fields (the same policy document S3 uses)."""
    expiration = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = json.dumps({"expiration": expiration, "conditions": conditions}, separators=(",", ":"))
    policy = base64.b64encode(document.encode()).decode()
    return {"policy": policy, SIGNATURE_FIELD: _mac(secret, policy)}


def check_form(secret: bytes, fields: dict[str, str], content_type: str, size: int, now: float) -> str:
    """Check a local form POST like S3 checks a presigned one; returns the key to store the file at.

    Args:
        fields: the form's text fields (``key``, ``policy``, the signature, the metadata).
        content_type: the form's ``Content-Type`` field (or the file part's type when the field is absent).
        size: the file's size in bytes.
        now: epoch seconds.

    Raises:
        UploadRefused: a bad signature, an expired policy, or a field, type or size the policy does not allow.
    """
    policy = fields.get("policy", "")
    # Bytes, not str: compare_digest refuses str with non-ASCII characters (a forged form may carry any).
    signature = fields.get(SIGNATURE_FIELD, "").encode()
    if not policy or not hmac.compare_digest(_mac(secret, policy).encode(), signature):
        raise UploadRefused("The upload form's signature does not match: ask for a new upload URL.")
    document = json.loads(base64.b64decode(policy))
    expiry = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    if now > expiry:
        raise UploadRefused("This upload URL has expired: ask for a new one.")
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            for name, value in condition.items():
                if fields.get(name) != value:
                    raise UploadRefused(f"The form's {name} is not the one this upload URL allows.")
        elif condition[0] == "starts-with":
            if not content_type.lower().startswith(condition[2]):
                raise UploadRefused(f"Only audio files can be uploaded here (got {content_type[:60] or 'no type'}).")
        elif condition[0] == "content-length-range" and not condition[1] <= size <= condition[2]:
            limit = condition[2] // (1024 * 1024)
            raise UploadRefused(f"The file is {size} bytes; this upload allows 1 byte to {limit} MB.")
    return str(fields["key"])


def parse_s3_event(body: str) -> list[Arrival]:
    """The object-created records of an S3 event notification (an SQS message body); [] for test events.

    Keys arrive URL-encoded (``+`` for spaces), as S3 sends them.

    Raises:
        ValidationFailed: the body is not an S3 event.
    """
    try:
        message = json.loads(body)
    except ValueError as e:
        raise ValidationFailed("The message is not JSON (not an S3 event).") from e
    if not isinstance(message, dict):
        raise ValidationFailed("The message is not an S3 event.")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise ValidationFailed("The message has no Records (not an S3 event).")
    arrivals = []
    for record in records:
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        arrivals.append(
            Arrival(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                size=int(s3["object"].get("size", 0)),
                event_name=record["eventName"],
            )
        )
    return arrivals


def s3_event(bucket: str, key: str, size: int, at: datetime) -> str:
    """An S3 ``ObjectCreated:Post`` notification for one object (what the local store sends on arrival)."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": "ObjectCreated:Post",
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket},
            "object": {"key": quote_plus(key, safe="/"), "size": size},
        },
    }
    return json.dumps({"Records": [record]})


def _key(secret: bytes, patient_id: str, upload_id: str, requested_by: str) -> str:
    signature = _mac(secret, f"{patient_id}/{upload_id}/{requested_by}")[:32]
    return f"{PREFIX}/{patient_id}/{upload_id}/{signature}"


def _mac(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
