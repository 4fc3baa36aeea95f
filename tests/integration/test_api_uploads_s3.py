"""Direct uploads against S3 and SQS (moto server): the API's presigned POST goes straight to the bucket, the
bucket's ObjectCreated notification lands on SQS in the S3 event format, and the consumer makes one job.

moto does not enforce a POST policy's size range or type prefix, which lets these tests send what a broken or
hostile client might; the arrival checks refuse it, as they would an object S3 itself let through.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from backend.adapters.blobs.s3_staging import S3UploadStaging
from backend.adapters.queues.sqs_inbox import SqsEventInbox
from backend.domain.upload_policy import s3_event
from backend.services.uploads import UploadDeps
from backend.worker.uploads import consume_one
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.aws_servers import client, moto_endpoint
from tests.helpers.speech import tone_bursts, wav_bytes

AUDIO = wav_bytes(tone_bursts(2.0))
KMS_KEY = "alias/copilot-uploads"


@dataclass
class Aws:
    harness: ApiHarness
    s3: Any
    sqs: Any
    bucket: str
    deps: UploadDeps

    def consume(self) -> list[str] | None:
        return consume_one(self.deps, self.deps.inbox, wait_seconds=2)


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Aws]:
    endpoint = moto_endpoint()
    s3, sqs = client("s3", endpoint), client("sqs", endpoint)
    bucket = f"copilot-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=f"uploads-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )
    harness = api_harness(tmp_path, max_upload_mb=1)
    local = harness.app.upload_deps()
    deps = UploadDeps(
        scribe=local.scribe,
        staging=S3UploadStaging(bucket, client=s3, kms_key_id=KMS_KEY),
        inbox=SqsEventInbox(queue_url, client=sqs),
        secret=b"s3-test-secret-" + uuid.uuid4().bytes,
        url_seconds=300,
        bucket=bucket,
    )
    harness.app.engines["uploads"] = deps  # the API's routes use these ports from now on
    env = Aws(harness, s3, sqs, bucket, deps)
    assert env.consume() == []  # S3's test event when the notification was configured
    yield env


def _ask(env: Aws) -> dict[str, Any]:
    response = env.harness.client.post(f"/v1/patients/{PID}/recordings:upload-url", headers=env.harness.auth("nurse"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _upload(form: dict[str, Any], data: bytes = AUDIO, content_type: str = "audio/wav") -> int:
    fields = {**form["fields"], "Content-Type": content_type}
    response = httpx2.post(form["url"], data=fields, files={"file": ("visit.wav", data, content_type)}, timeout=30)
    return response.status_code


def _staged(env: Aws) -> list[str]:
    listed = env.s3.list_objects_v2(Bucket=env.bucket, Prefix="uploads/")
    return [o["Key"] for o in listed.get("Contents", [])]


def _jobs(env: Aws) -> list[Any]:
    return [j for j in env.harness.app.stores.jobs.list_for_patient(PID, limit=200) if j.filename.startswith("UPL_")]


def _audit(env: Aws, action: str) -> list[str]:
    with sqlite3.connect(env.harness.app.settings.db_path) as conn:
        rows = conn.execute("SELECT body FROM audit_log ORDER BY seq").fetchall()
    return [json.loads(r[0])["detail"] for r in rows if json.loads(r[0])["action"] == action]


def test_the_presigned_post_asks_for_kms_and_limits_size_type_and_key(aws: Aws) -> None:
    form = _ask(aws)
    assert form["url"].endswith(f"/{aws.bucket}")
    fields = form["fields"]
    assert fields["key"].startswith(f"uploads/{PID}/{form['upload_id']}/")
    assert fields["x-amz-server-side-encryption"] == "aws:kms"
    assert fields["x-amz-server-side-encryption-aws-kms-key-id"] == KMS_KEY
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1024 * 1024] in conditions
    assert ["starts-with", "$Content-Type", "audio/"] in conditions
    assert {"key": fields["key"]} in conditions and {"x-amz-meta-requested-by": "nurse"} in conditions
    assert {"x-amz-server-side-encryption": "aws:kms"} in conditions


def test_an_upload_to_the_bucket_becomes_one_job_however_often_its_event_comes(aws: Aws) -> None:
    form = _ask(aws)
    assert _upload(form) == 204
    assert aws.consume() == ["queued"]
    job = aws.harness.client.get(form["status_url"], headers=aws.harness.auth("nurse")).json()
    assert job["status"] == "accepted" and job["job"]["status"] == "queued"

    # The same event again (SQS and S3 both deliver at least once), then the same form posted again.
    body = s3_event(aws.bucket, form["fields"]["key"], len(AUDIO), datetime.now(UTC))
    aws.sqs.send_message(QueueUrl=aws.deps.inbox.queue_url, MessageBody=body)  # type: ignore[attr-defined]
    assert aws.consume() == ["gone"]
    assert _upload(form) == 204
    assert aws.consume() == ["duplicate"]

    jobs = _jobs(aws)
    assert len(jobs) == 1 and jobs[0].created_by == "nurse" and jobs[0].source == "direct-upload"
    assert aws.harness.app.blobs.get(jobs[0].blob_key) == AUDIO
    assert aws.harness.app.queue.depth() == 1  # type: ignore[attr-defined]
    assert _staged(aws) == []


@pytest.mark.parametrize(
    ("data", "content_type", "why"),
    [(b"0" * (1024 * 1024 + 1), "audio/wav", "MB"), (AUDIO, "text/plain", "audio"), (b"not audio", "audio/wav", "")],
)
def test_an_object_that_is_too_big_or_not_audio_is_refused_recorded_and_deleted(
    aws: Aws, data: bytes, content_type: str, why: str
) -> None:
    form = _ask(aws)
    assert _upload(form, data, content_type) == 204  # moto lets it in; the arrival check does not
    assert aws.consume() == ["refused"]
    state = aws.harness.client.get(form["status_url"], headers=aws.harness.auth("nurse")).json()
    assert state["status"] == "refused" and why in state["error"]
    assert state["job"]["status"] == "failed"
    assert aws.harness.app.queue.depth() == 0  # type: ignore[attr-defined]
    assert _staged(aws) == []
    assert any(form["upload_id"] in d for d in _audit(aws, "upload.refused"))


def test_an_object_for_an_unknown_upload_is_refused_recorded_and_deleted(aws: Aws) -> None:
    forged = f"uploads/{PID}/UPL_00000000000000aa_9999999999/" + "0" * 32
    aws.s3.put_object(
        Bucket=aws.bucket, Key=forged, Body=AUDIO, ContentType="audio/wav", Metadata={"requested-by": "nurse"}
    )
    assert aws.consume() == ["refused"]
    assert _staged(aws) == [] and _jobs(aws) == []
    assert any("unknown upload" in d for d in _audit(aws, "upload.refused"))


def test_a_message_that_is_not_an_s3_event_is_dropped(aws: Aws) -> None:
    aws.sqs.send_message(QueueUrl=aws.deps.inbox.queue_url, MessageBody='{"hello": 1}')  # type: ignore[attr-defined]
    assert aws.consume() == ["dropped"]
    assert aws.consume() is None
