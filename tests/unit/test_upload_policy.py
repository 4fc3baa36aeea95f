"""The pure rules of direct uploads: signed staging keys, the POST policy as the local form route checks it,
and the S3 event format (as S3 and moto send it: URL-encoded keys, test events)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.upload_policy import (
    REQUESTER_FIELD,
    UploadRefused,
    check_form,
    expires_at,
    job_id_of,
    new_upload,
    parse_s3_event,
    post_conditions,
    s3_event,
    sign_policy,
    verify_key,
)

SECRET = b"0" * 32
NOW = 1_800_000_000


def _form(max_bytes: int = 100) -> tuple[dict[str, str], str]:
    upload = new_upload(SECRET, "PAT_de000001", "nurse", NOW + 900)
    fields = {"key": upload.key, REQUESTER_FIELD: "nurse"}
    fields |= sign_policy(SECRET, post_conditions(upload, max_bytes, {}), NOW + 900)
    return fields, upload.key


def test_a_key_verifies_only_for_its_requester_and_secret() -> None:
    upload = new_upload(SECRET, "PAT_de000001", "nurse", NOW + 900)
    assert verify_key(SECRET, upload.key, "nurse") == upload
    assert upload.job_id == job_id_of(upload.upload_id) and expires_at(upload.upload_id) == NOW + 900
    for key, who, secret in ((upload.key, "doctor", SECRET), (upload.key, "nurse", b"1" * 32)):
        with pytest.raises(UploadRefused, match="unknown upload"):
            verify_key(secret, key, who)
    with pytest.raises(UploadRefused, match="pending upload"):
        verify_key(SECRET, "audio/00/" + "0" * 64, "nurse")


def test_the_local_form_is_checked_as_s3_checks_a_presigned_post() -> None:
    fields, key = _form()
    assert check_form(SECRET, fields, "audio/webm", 100, NOW) == key
    refusals = [
        ({**fields, "key": key[:-1] + "x"}, "audio/webm", 10, NOW, "key"),
        (fields, "video/mp4", 10, NOW, "Only audio"),
        (fields, "audio/webm", 101, NOW, "1 byte"),
        (fields, "audio/webm", 0, NOW, "1 byte"),
        (fields, "audio/webm", 10, NOW + 901, "expired"),
        ({**fields, "x-copilot-signature": "0" * 64}, "audio/webm", 10, NOW, "signature"),
        ({**fields, "x-copilot-signature": "é" * 64}, "audio/webm", 10, NOW, "signature"),  # any character
        ({**fields, "key": key[:-1] + "é"}, "audio/webm", 10, NOW, "key"),
    ]
    for form, content_type, size, now, why in refusals:
        with pytest.raises(UploadRefused, match=why):
            check_form(SECRET, form, content_type, size, now)


def test_s3_events_round_trip_with_encoded_keys_and_test_events_are_skipped() -> None:
    key = "uploads/PAT_de000001/UPL_0123456789abcdef_1800000900/" + "a" * 32
    body = s3_event("bucket-1", key, 42, datetime(2026, 12, 1, tzinfo=UTC))
    (arrival,) = parse_s3_event(body)
    assert (arrival.bucket, arrival.key, arrival.size) == ("bucket-1", key, 42)
    moto_style = json.loads(body)
    moto_style["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")
    assert parse_s3_event(json.dumps(moto_style))[0].key == key
    assert parse_s3_event(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    removed = json.loads(body)
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert parse_s3_event(json.dumps(removed)) == []
    for bad in ("not json", "[]", '{"hello": 1}'):
        with pytest.raises(ValidationFailed):
            parse_s3_event(bad)
