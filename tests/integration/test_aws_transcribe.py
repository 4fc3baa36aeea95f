"""AWS Transcribe adapter: botocore Stubber replies shaped as documented, moto S3 holding audio and transcript.

Stubber checks every request against the service model (names, required parameters, enum values) and every
reply against the documented output shape, so a wrong parameter fails here as it would against AWS.
The transcript JSON fixtures follow the documented batch output (``results.transcripts``, ``results.items``
with ``alternatives``, ``results.speaker_labels.segments``, and the newer ``results.audio_segments``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from backend.adapters.speech.aws_transcribe import AwsTranscribeTranscriber, PollPolicy, parse_transcript
from backend.domain.errors import ProviderUnavailable

BUCKET = "copilot-test-audio"
REGION = "us-east-1"
PREFIX = "tmp/transcribe/"
NOW = dt.datetime(2025, 5, 3, 10, 0, tzinfo=dt.UTC)


def _word(start: str, end: str, content: str, speaker: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "start_time": start,
        "end_time": end,
        "alternatives": [{"confidence": "0.99", "content": content}],
        "type": "pronunciation",
    }
    if speaker:
        item["speaker_label"] = speaker
    return item


def _punct(content: str) -> dict[str, Any]:
    return {"alternatives": [{"confidence": "0.0", "content": content}], "type": "punctuation"}


# Transcribe Medical (speaker partitioning): speakers come from speaker_labels.segments, items carry none.
MEDICAL_TRANSCRIPT = {
    "jobName": "copilot-job",
    "accountId": "111122223333",
    "results": {
        "transcripts": [{"transcript": "Any allergies? No. I take metformin 500 mg."}],
        "speaker_labels": {
            "speakers": 2,
            "segments": [
                {"start_time": "0.04", "speaker_label": "spk_0", "end_time": "1.10", "items": [
                    {"start_time": "0.04", "speaker_label": "spk_0", "end_time": "0.45"},
                    {"start_time": "0.45", "speaker_label": "spk_0", "end_time": "1.10"}]},
                {"start_time": "1.60", "speaker_label": "spk_1", "end_time": "4.20", "items": [
                    {"start_time": "1.60", "speaker_label": "spk_1", "end_time": "1.90"},
                    {"start_time": "2.10", "speaker_label": "spk_1", "end_time": "2.30"},
                    {"start_time": "2.30", "speaker_label": "spk_1", "end_time": "2.60"},
                    {"start_time": "2.60", "speaker_label": "spk_1", "end_time": "3.30"},
                    {"start_time": "3.30", "speaker_label": "spk_1", "end_time": "3.70"},
                    {"start_time": "3.70", "speaker_label": "spk_1", "end_time": "4.20"}]},
            ],
        },
        "items": [
            _word("0.04", "0.45", "Any"), _word("0.45", "1.10", "allergies"), _punct("?"),
            _word("1.60", "1.90", "No"), _punct("."),
            _word("2.10", "2.30", "I"), _word("2.30", "2.60", "take"), _word("2.60", "3.30", "metformin"),
            _word("3.30", "3.70", "500"), _word("3.70", "4.20", "mg"), _punct("."),
        ],
    },
    "status": "COMPLETED",
}  # fmt: skip

# Standard job with the newer audio_segments block.
STANDARD_TRANSCRIPT = {
    "jobName": "copilot-job",
    "accountId": "111122223333",
    "status": "COMPLETED",
    "results": {
        "transcripts": [{"transcript": "Bukhar kab se hai? Teen din se."}],
        "items": [
            {
                "id": 0,
                "start_time": "0.1",
                "end_time": "0.6",
                "speaker_label": "spk_0",
                "alternatives": [{"confidence": "0.9", "content": "Bukhar"}],
                "type": "pronunciation",
            },
            {
                "id": 1,
                "start_time": "2.0",
                "end_time": "2.4",
                "speaker_label": "spk_1",
                "alternatives": [{"confidence": "0.9", "content": "Teen"}],
                "type": "pronunciation",
            },
        ],
        "audio_segments": [
            {
                "id": 0,
                "transcript": "Bukhar kab se hai?",
                "start_time": "0.1",
                "end_time": "1.5",
                "speaker_label": "spk_0",
                "items": [0],
            },
            {
                "id": 1,
                "transcript": "Teen din se.",
                "start_time": "2.0",
                "end_time": "3.1",
                "speaker_label": "spk_1",
                "items": [1],
            },
        ],
    },
}


@pytest.fixture
def aws() -> Iterator[Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def _samples(seconds: float = 1.0) -> np.ndarray:
    return (0.2 * np.sin(np.linspace(0, 440 * 2 * np.pi * seconds, int(16000 * seconds)))).astype(np.float32)


def _service_writes(s3: Any, transcript: dict[str, Any], seen: list[bytes]) -> Callable[[float], None]:
    """A ``sleep`` that plays the service: reads the uploaded audio and writes the transcript next to it."""

    def sleep(_: float) -> None:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])]
        audio = next(k for k in keys if k.endswith("/audio.wav"))
        seen.append(s3.get_object(Bucket=BUCKET, Key=audio)["Body"].read())
        key = audio.replace("audio.wav", "transcript.json")
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(transcript).encode())

    return sleep


def _medical_job(status: str, **extra: Any) -> dict[str, Any]:
    job = {"MedicalTranscriptionJobName": "copilot-job", "TranscriptionJobStatus": status, "LanguageCode": "en-US",
           "MediaSampleRateHertz": 16000, "MediaFormat": "wav", "Media": {"MediaFileUri": f"s3://{BUCKET}/x/audio.wav"},
           "CreationTime": NOW, "Specialty": "PRIMARYCARE", "Type": "CONVERSATION",
           "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 3}}  # fmt: skip
    job.update(extra)
    return {"MedicalTranscriptionJob": job}


def _remaining(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])]


def test_medical_job_end_to_end(aws: Any) -> None:
    client = boto3.client("transcribe", region_name=REGION)
    stub = Stubber(client)
    start_params = {
        "MedicalTranscriptionJobName": ANY, "LanguageCode": "en-US", "MediaSampleRateHertz": 16000,
        "MediaFormat": "wav", "Media": ANY, "OutputBucketName": BUCKET, "OutputKey": ANY,
        "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 3},
        "Specialty": "PRIMARYCARE", "Type": "CONVERSATION",
    }  # fmt: skip
    stub.add_response("start_medical_transcription_job", _medical_job("QUEUED"), start_params)
    stub.add_response(
        "get_medical_transcription_job", _medical_job("IN_PROGRESS"), {"MedicalTranscriptionJobName": ANY}
    )
    done = _medical_job(
        "COMPLETED",
        Transcript={
            "TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{PREFIX}copilot-job/transcript.json"
        },
        CompletionTime=NOW,
    )
    stub.add_response("get_medical_transcription_job", done, {"MedicalTranscriptionJobName": ANY})
    stub.add_response("delete_medical_transcription_job", {}, {"MedicalTranscriptionJobName": ANY})
    audio: list[bytes] = []
    engine = AwsTranscribeTranscriber(
        BUCKET,
        client=client,
        s3_client=aws,
        poll=PollPolicy(first_delay=1, max_delay=4),
        sleep=_service_writes(aws, MEDICAL_TRANSCRIPT, audio),
    )
    with stub:
        segments = engine.transcribe(_samples(), "en")
    stub.assert_no_pending_responses()
    assert [(s.speaker, s.start, s.end, s.text) for s in segments] == [
        ("spk_0", 0.04, 1.10, "Any allergies?"),
        ("spk_1", 1.60, 1.90, "No."),
        ("spk_1", 2.10, 4.20, "I take metformin 500 mg."),
    ]
    assert audio[0][:4] == b"RIFF" and audio[0][8:12] == b"WAVE"
    assert _remaining(aws) == []  # audio and transcript deleted


def test_hindi_uses_the_standard_job_and_audio_segments(aws: Any) -> None:
    client = boto3.client("transcribe", region_name=REGION)
    stub = Stubber(client)
    job = {
        "TranscriptionJobName": "copilot-job",
        "TranscriptionJobStatus": "QUEUED",
        "LanguageCode": "hi-IN",
        "CreationTime": NOW,
    }
    start_params = {
        "TranscriptionJobName": ANY, "LanguageCode": "hi-IN", "MediaSampleRateHertz": 16000, "MediaFormat": "wav",
        "Media": ANY, "OutputBucketName": BUCKET, "OutputKey": ANY,
        "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 3},
    }  # fmt: skip
    stub.add_response("start_transcription_job", {"TranscriptionJob": job}, start_params)
    done = {
        **job,
        "TranscriptionJobStatus": "COMPLETED",
        "Transcript": {"TranscriptFileUri": "https://s3.amazonaws.com/x.json"},
    }
    stub.add_response(
        "get_transcription_job",
        {"TranscriptionJob": {**job, "TranscriptionJobStatus": "IN_PROGRESS"}},
        {"TranscriptionJobName": ANY},
    )
    stub.add_response("get_transcription_job", {"TranscriptionJob": done}, {"TranscriptionJobName": ANY})
    stub.add_response("delete_transcription_job", {}, {"TranscriptionJobName": ANY})
    engine = AwsTranscribeTranscriber(
        BUCKET, client=client, s3_client=aws, language="hi-IN", sleep=_service_writes(aws, STANDARD_TRANSCRIPT, [])
    )
    with stub:
        segments = engine.transcribe(_samples(), "hi")
    stub.assert_no_pending_responses()
    assert [(s.speaker, s.text, s.start) for s in segments] == [
        ("spk_0", "Bukhar kab se hai?", 0.1),
        ("spk_1", "Teen din se.", 2.0),
    ]
    assert _remaining(aws) == []


def test_failed_job_is_reported_and_cleaned_up(aws: Any) -> None:
    client = boto3.client("transcribe", region_name=REGION)
    stub = Stubber(client)
    stub.add_response("start_medical_transcription_job", _medical_job("QUEUED"), None)
    failed = _medical_job("FAILED", FailureReason="The media format provided does not match the detected media format.")
    stub.add_response("get_medical_transcription_job", failed, {"MedicalTranscriptionJobName": ANY})
    stub.add_response("delete_medical_transcription_job", {}, {"MedicalTranscriptionJobName": ANY})
    engine = AwsTranscribeTranscriber(BUCKET, client=client, s3_client=aws, sleep=lambda s: None)
    with stub, pytest.raises(ProviderUnavailable, match="media format"):
        engine.transcribe(_samples())
    stub.assert_no_pending_responses()
    assert _remaining(aws) == []


def test_quota_error_becomes_provider_unavailable(aws: Any) -> None:
    client = boto3.client("transcribe", region_name=REGION)
    stub = Stubber(client)
    stub.add_client_error(
        "start_medical_transcription_job", service_error_code="LimitExceededException", http_status_code=400
    )
    engine = AwsTranscribeTranscriber(BUCKET, client=client, s3_client=aws, sleep=lambda s: None)
    with stub, pytest.raises(ProviderUnavailable, match="quota"):
        engine.transcribe(_samples())
    assert _remaining(aws) == []  # the uploaded audio is removed even though no job ran


def test_poll_timeout(aws: Any) -> None:
    client = boto3.client("transcribe", region_name=REGION)
    stub = Stubber(client)
    stub.add_response("start_medical_transcription_job", _medical_job("QUEUED"), None)
    stub.add_response("get_medical_transcription_job", _medical_job("IN_PROGRESS"), None)
    stub.add_response("delete_medical_transcription_job", {}, None)
    engine = AwsTranscribeTranscriber(
        BUCKET, client=client, s3_client=aws, poll=PollPolicy(first_delay=5, timeout_s=1), sleep=lambda s: None
    )
    with stub, pytest.raises(ProviderUnavailable, match="did not finish"):
        engine.transcribe(_samples())


def test_moto_job_lifecycle(aws: Any) -> None:
    """moto's Transcribe moves the job QUEUED -> IN_PROGRESS -> COMPLETED on successive reads."""
    client = boto3.client("transcribe", region_name=REGION)
    engine = AwsTranscribeTranscriber(
        BUCKET, client=client, s3_client=aws, sleep=_service_writes(aws, MEDICAL_TRANSCRIPT, [])
    )
    segments = engine.transcribe(_samples())
    assert [s.text for s in segments][-1] == "I take metformin 500 mg."
    assert client.list_medical_transcription_jobs()["MedicalTranscriptionJobSummaries"] == []  # deleted
    assert _remaining(aws) == []


def test_parse_items_with_inline_speakers_and_pauses() -> None:
    doc = {"results": {"items": [
        _word("0.0", "0.4", "Take", "spk_0"), _word("0.4", "0.8", "rest", "spk_0"),
        _word("3.0", "3.4", "and", "spk_0"), _word("3.4", "3.9", "fluids", "spk_0"), _punct("."),
    ]}}  # fmt: skip
    segments = parse_transcript(doc)
    assert [(s.text, s.start, s.end) for s in segments] == [("Take rest", 0.0, 0.8), ("and fluids.", 3.0, 3.9)]
    assert parse_transcript({"results": {"items": []}}) == []
