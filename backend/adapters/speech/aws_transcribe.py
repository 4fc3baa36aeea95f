"""Speech-to-text with AWS Transcribe batch jobs, implementing ``backend.ports.Transcriber``.

One call: the audio is written as WAV to our S3 bucket under a per-job prefix -> a job is started
(``StartMedicalTranscriptionJob``, Specialty PRIMARYCARE, Type CONVERSATION, for en-US; the standard
``StartTranscriptionJob`` for en-IN / hi-IN, which Transcribe Medical does not support) with speaker labels
and its output in the same bucket and prefix -> the job is polled with backoff -> the transcript JSON is
read from S3 and turned into segments with speakers and times -> the job and both S3 objects are deleted
(they hold patient audio and text), whatever happened.

Every failure becomes :class:`ProviderUnavailable`, so the fallback wrapper can hand over to the offline engine.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError
from numpy.typing import NDArray

from backend.adapters.audio.decode import encode_wav
from backend.adapters.aws_errors import delete_quietly, error_code, retry_config
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
MEDICAL_LANGUAGES = frozenset({"en-US"})  # Transcribe Medical batch jobs: US English only
LANGUAGE_CODES = {"en": "en-US", "hi": "hi-IN", "en-us": "en-US", "en-in": "en-IN", "hi-in": "hi-IN"}
THROTTLED = frozenset({"LimitExceededException", "ThrottlingException", "TooManyRequestsException"})
SENTENCE_END = (".", "?", "!")
PAUSE_S = 1.5  # a silence this long starts a new segment even within one speaker's sentence


wav_bytes = encode_wav  # one WAV encoder for the whole app


def _speaker_by_time(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(start_time, end_time) -> speaker label, from ``speaker_labels.segments[].items[]``."""
    table: dict[tuple[str, str], str] = {}
    for seg in (results.get("speaker_labels") or {}).get("segments", []):
        for item in seg.get("items", []):
            table[(str(item.get("start_time")), str(item.get("end_time")))] = str(item.get("speaker_label"))
    return table


def _from_audio_segments(results: dict[str, Any]) -> list[Segment]:
    segments: list[Segment] = []
    for seg in results.get("audio_segments") or []:
        text = str(seg.get("transcript", "")).strip()
        if text:
            speaker = seg.get("speaker_label")
            segments.append(
                Segment(
                    id=len(segments),
                    start=float(seg["start_time"]),
                    end=float(seg["end_time"]),
                    text=text,
                    speaker=str(speaker) if speaker else None,
                )
            )
    return segments


def parse_transcript(document: dict[str, Any]) -> list[Segment]:
    """A Transcribe (or Transcribe Medical) transcript JSON -> segments with speakers and times.

    Uses ``results.audio_segments`` when the job wrote them; otherwise rebuilds segments from
    ``results.items`` (words with times, punctuation without), taking each word's speaker from its own
    ``speaker_label`` or from ``results.speaker_labels.segments``. A segment ends at a change of speaker,
    at the end of a sentence, or at a pause of more than ``PAUSE_S`` seconds.
    """
    results = document.get("results") or {}
    from_segments = _from_audio_segments(results)
    if from_segments:
        return from_segments
    speakers = _speaker_by_time(results)
    segments: list[Segment] = []
    words: list[str] = []
    start = end = 0.0
    speaker: str | None = None

    def flush() -> None:
        if words:
            text = " ".join(words).replace(" ,", ",")
            segments.append(Segment(id=len(segments), start=start, end=end, text=text, speaker=speaker))
            words.clear()

    for item in results.get("items", []):
        content = str((item.get("alternatives") or [{}])[0].get("content", ""))
        if item.get("type") == "punctuation":
            if words:
                words[-1] += content
                if content in SENTENCE_END:
                    flush()
            continue
        t0, t1 = str(item.get("start_time")), str(item.get("end_time"))
        who = item.get("speaker_label") or speakers.get((t0, t1))
        if words and (who != speaker or float(t0) - end > PAUSE_S):
            flush()
        if not words:
            start, speaker = float(t0), (str(who) if who else None)
        words.append(content)
        end = float(t1)
    flush()
    return segments


@dataclass(frozen=True)
class PollPolicy:
    """Backoff between job status checks: first_delay, doubling up to max_delay; give up after timeout_s."""

    first_delay: float = 2.0
    max_delay: float = 20.0
    timeout_s: float = 1800.0


def _unavailable(error: Exception, what: str) -> ProviderUnavailable:
    if isinstance(error, ClientError):
        code = error_code(error)
        if code in THROTTLED:
            return ProviderUnavailable(
                f"AWS Transcribe is over its quota or throttling ({what}: {code}). Try again later."
            )
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "ExpiredTokenException"):
            return ProviderUnavailable(
                f"AWS refused access ({what}: {code}): check the credentials and IAM permissions."
            )
        message = error.response.get("Error", {}).get("Message", "")
        return ProviderUnavailable(f"AWS Transcribe failed ({what}: {code} {message}).".replace(" )", ")"))
    return ProviderUnavailable(f"AWS Transcribe could not be reached ({what}: {type(error).__name__}).")


class AwsTranscribeTranscriber:
    """``Transcriber`` over AWS Transcribe (Medical for en-US).

    Args:
        s3_bucket: bucket for the temporary audio and the transcript (ours: the output is read back from it).
        client: a boto3 ``transcribe`` client (built with adaptive retries when None).
        s3_client: a boto3 ``s3`` client (built when None).
        language: default language code when a call gives none: en-US, en-IN or hi-IN.
        poll: polling policy.
        prefix: S3 key prefix of the temporary objects (give it a lifecycle rule as a safety net).
        max_speakers: ``MaxSpeakerLabels`` (2-30); a consultation is usually 2-3 people.
        kms_key_id: encrypt the audio and the transcript with this KMS key (else SSE-S3).
        region: AWS region for clients built here.
        sleep: injectable for tests.
    """

    low_accuracy = False

    def __init__(
        self,
        s3_bucket: str,
        client: Any = None,
        s3_client: Any = None,
        language: str = "en-US",
        poll: PollPolicy = PollPolicy(),
        *,
        prefix: str = "tmp/transcribe/",
        max_speakers: int = 3,
        kms_key_id: str | None = None,
        region: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not s3_bucket:
            raise ProviderUnavailable("AWS Transcribe needs an S3 bucket: set COPILOT_S3_BUCKET.")
        if client is None or s3_client is None:
            import boto3

            client = client or boto3.client("transcribe", region_name=region, config=retry_config())
            s3_client = s3_client or boto3.client("s3", region_name=region, config=retry_config())
        self.bucket = s3_bucket
        self.client = client
        self.s3 = s3_client
        self.language = language
        self.poll = poll
        self.prefix = prefix
        self.max_speakers = max(2, min(30, max_speakers))
        self.kms_key_id = kms_key_id
        self._sleep = sleep
        self.name = "aws-transcribe-medical" if language in MEDICAL_LANGUAGES else "aws-transcribe"

    def language_code(self, language: str | None) -> str:
        """A Transcribe language code for the port's ``language`` ("en", "hi", a full code, or None)."""
        if not language:
            return self.language
        if language.lower() == "en" and self.language.startswith("en-"):
            return self.language
        return LANGUAGE_CODES.get(language.lower(), language)

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Run one batch job for ``samples`` (16 kHz mono float32) and return its segments."""
        code = self.language_code(language)
        medical = code in MEDICAL_LANGUAGES
        job = f"copilot-{uuid.uuid4().hex}"
        audio_key, transcript_key = f"{self.prefix}{job}/audio.wav", f"{self.prefix}{job}/transcript.json"
        started = False
        try:
            self._put(audio_key, wav_bytes(samples), "audio/wav")
            self._start(job, code, medical, audio_key, transcript_key)
            started = True
            self._wait(job, medical)
            document = self._read_json(transcript_key)
        finally:
            self._cleanup(job, medical, started, [audio_key, transcript_key])
        return parse_transcript(document)

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        extra: dict[str, str] = {"ServerSideEncryption": "AES256"}
        if self.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "uploading the audio to S3") from e

    def _start(self, job: str, code: str, medical: bool, audio_key: str, transcript_key: str) -> None:
        common: dict[str, Any] = {
            "LanguageCode": code,
            "MediaSampleRateHertz": SAMPLE_RATE,
            "MediaFormat": "wav",
            "Media": {"MediaFileUri": f"s3://{self.bucket}/{audio_key}"},
            "OutputBucketName": self.bucket,
            "OutputKey": transcript_key,
            "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": self.max_speakers},
        }
        if self.kms_key_id:
            common["OutputEncryptionKMSKeyId"] = self.kms_key_id
        try:
            if medical:
                self.client.start_medical_transcription_job(
                    MedicalTranscriptionJobName=job, Specialty="PRIMARYCARE", Type="CONVERSATION", **common
                )
            else:
                self.client.start_transcription_job(TranscriptionJobName=job, **common)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "starting the job") from e

    def _status(self, job: str, medical: bool) -> dict[str, Any]:
        try:
            if medical:
                return dict(
                    self.client.get_medical_transcription_job(MedicalTranscriptionJobName=job)[
                        "MedicalTranscriptionJob"
                    ]
                )
            return dict(self.client.get_transcription_job(TranscriptionJobName=job)["TranscriptionJob"])
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "checking the job") from e

    def _wait(self, job: str, medical: bool) -> dict[str, Any]:
        deadline = time.monotonic() + self.poll.timeout_s
        delay = self.poll.first_delay
        while True:
            info = self._status(job, medical)
            status = info.get("TranscriptionJobStatus")
            if status == "COMPLETED":
                return info
            if status == "FAILED":
                reason = info.get("FailureReason", "no reason given")
                raise ProviderUnavailable(f"AWS Transcribe could not transcribe this recording: {reason}")
            if time.monotonic() + delay > deadline:
                raise ProviderUnavailable(
                    f"AWS Transcribe did not finish within {self.poll.timeout_s / 60:.0f} minutes."
                )
            self._sleep(delay)
            delay = min(delay * 2, self.poll.max_delay)

    def _read_json(self, key: str) -> dict[str, Any]:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "reading the transcript from S3") from e
        try:
            document = json.loads(body)
        except ValueError as e:
            raise ProviderUnavailable("AWS Transcribe wrote a transcript that is not valid JSON.") from e
        if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
            raise ProviderUnavailable("AWS Transcribe wrote a transcript without results.")
        return document

    def _cleanup(self, job: str, medical: bool, started: bool, keys: list[str]) -> None:
        """Delete the job record and the temporary objects; failures are logged, never raised."""
        if started:
            try:
                if medical:
                    self.client.delete_medical_transcription_job(MedicalTranscriptionJobName=job)
                else:
                    self.client.delete_transcription_job(TranscriptionJobName=job)
            except (ClientError, BotoCoreError) as e:
                log.warning("could not delete transcription job %s: %s", job, type(e).__name__)
        for key in keys:
            delete_quietly(self.s3, self.bucket, key)

    def check(self) -> str:
        """A cheap authenticated call for the providers page; raises ProviderUnavailable."""
        try:
            self.client.list_medical_transcription_jobs(MaxResults=1)
            self.s3.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "connection test") from e
        return f"AWS Transcribe reachable; bucket {self.bucket} accessible."
