"""Fixtures that give each contract test a fresh adapter of every backend.

``record_store``: SQLite file | the same encrypted (SQLCipher) | DynamoDB Local (fresh tables under a unique prefix)
``blob_store``:   local directory | the same encrypted (AES-GCM) | S3 on moto (fresh bucket)
``job_queue``:    SQLite file | the same encrypted | SQS on moto (fresh queue)
``audio_codec``:  PyAV
``ocr``:          rapidocr (the models in its wheel)
``speech``:       faster-whisper (the provisioned base model)

Each has one more implementation, ``fake``: the in-memory fake of the unit tests (``tests/fakes``). It passes
the same contract as the adapters, so what a unit test sees on a fake is what the real stores do; its runs
need no server.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.crypto import BlobCipher, DataKey
from backend.adapters.records.dynamodb import open_dynamodb_store
from backend.ports import AudioCodec, BlobStore, JobQueue, OcrEngine, RecordStore, Transcriber
from tests.helpers.aws_servers import client, fresh_tables, moto_endpoint
from tests.helpers.speech import whisper, whisper_model_dir

__all__ = ["whisper", "whisper_model_dir"]  # session fixtures of the speech contract


def _key(param: str) -> DataKey | None:
    """A fresh data key for the ``-encrypted`` variants of the local adapters."""
    return DataKey.generate() if param.endswith("-encrypted") else None


STORED_RECORDS = ["sqlite", "sqlite-encrypted", "dynamodb"]  # the adapters that keep rows in a stored format


@contextmanager
def _record_store(param: str, tmp_path: Path) -> Iterator[RecordStore]:
    if param == "fake":
        from tests.fakes.records import fake_record_store

        yield fake_record_store()
        return
    if param.startswith("sqlite"):
        from backend.adapters.records.sqlite import open_sqlite_store

        yield open_sqlite_store(tmp_path / "copilot.sqlite3", _key(param))
        return
    with fresh_tables() as (ddb, prefix):
        yield open_dynamodb_store(prefix, client=ddb)


@pytest.fixture(params=["fake", *STORED_RECORDS])
def record_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    with _record_store(request.param, tmp_path) as store:
        yield store


@pytest.fixture(params=STORED_RECORDS)
def stored_record_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    """Only the adapters: for tests of rows written in an older stored format (a fake keeps objects, not rows)."""
    with _record_store(request.param, tmp_path) as store:
        yield store


@pytest.fixture(params=["fake", "local", "local-encrypted", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "fake":
        from tests.fakes.blobs import FakeBlobs

        return FakeBlobs()
    if request.param.startswith("local"):
        from backend.adapters.blobs.local import LocalBlobStore

        key = _key(request.param)
        return LocalBlobStore(tmp_path / "blobs", BlobCipher(key) if key else None)
    from backend.adapters.blobs.s3 import S3BlobStore

    s3 = client("s3", moto_endpoint())
    bucket = f"blobs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return S3BlobStore(bucket, client=s3, multipart_threshold=5 * 1024 * 1024)


class QueueClock:
    """Time as a queue's visibility timeouts see it.

    SQLite and the fake: a fake clock that the test moves, so no test waits and load cannot make a message reappear early.
    SQS: the (moto) server's own clock, which only real waiting moves.
    """

    def __init__(self, fake: bool) -> None:
        self.fake = fake
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def pass_seconds(self, seconds: float) -> None:
        if self.fake:
            self.now += seconds
        else:
            threading.Event().wait(seconds)  # a server's clock: nothing but waiting moves it


@pytest.fixture(params=["fake", "sqlite", "sqlite-encrypted", "sqs"])
def queue_and_clock(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[JobQueue, QueueClock]:
    if request.param == "fake":
        from tests.fakes.queue import FakeQueue

        clock = QueueClock(fake=True)
        return FakeQueue(clock), clock
    if request.param.startswith("sqlite"):
        from backend.adapters.queues.sqlite import SqliteJobQueue
        from backend.adapters.records.sqlite import Database

        clock = QueueClock(fake=True)
        return SqliteJobQueue(Database(tmp_path / "queue.sqlite3", _key(request.param)), clock=clock), clock
    from backend.adapters.queues.sqs import SqsJobQueue

    sqs = client("sqs", moto_endpoint())
    url = sqs.create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return SqsJobQueue(url, client=sqs), QueueClock(fake=False)


@pytest.fixture
def job_queue(queue_and_clock: tuple[JobQueue, QueueClock]) -> JobQueue:
    return queue_and_clock[0]


@pytest.fixture
def queue_clock(queue_and_clock: tuple[JobQueue, QueueClock]) -> QueueClock:
    return queue_and_clock[1]


@pytest.fixture(params=["fake", "pyav"])
def audio_codec(request: pytest.FixtureRequest) -> AudioCodec:
    if request.param == "fake":
        from tests.fakes.audio import FakeCodec

        return FakeCodec()
    from backend.adapters.audio.pyav_codec import PyAvCodec

    return PyAvCodec()


@dataclass(frozen=True)
class OcrUnderTest:
    """An OCR engine and how a test tells it what a page shows (the real engine sees it in the pixels)."""

    engine: OcrEngine
    show: Callable[[bytes, Sequence[str]], None]


@pytest.fixture(params=["fake", "rapidocr"])
def ocr(request: pytest.FixtureRequest) -> OcrUnderTest:
    if request.param == "fake":
        from tests.fakes.ocr import FakeOcr

        fake = FakeOcr()
        return OcrUnderTest(fake, fake.show)
    from backend.adapters.ocr.rapidocr_engine import shared_engine

    return OcrUnderTest(shared_engine(), lambda image, lines: None)  # loaded once per process


@dataclass(frozen=True)
class SpeechUnderTest:
    """A transcriber and how a test makes it hear ``text`` (the real engine hears espeak-ng saying it)."""

    engine: Transcriber
    say: Callable[[str], NDArray[np.float32]]


@pytest.fixture(params=["fake", "whisper"])
def speech(request: pytest.FixtureRequest) -> SpeechUnderTest:
    from tests.helpers.speech import synth_samples

    if request.param == "fake":
        from tests.fakes.speech import RATE, ScriptedTranscriber

        fake = ScriptedTranscriber([])

        def say(text: str) -> NDArray[np.float32]:
            samples = synth_samples(text)
            fake.script.append((0.0, len(samples) / RATE, text, "unknown"))
            return samples

        return SpeechUnderTest(fake, say)
    engine = request.getfixturevalue("whisper")  # one model for the session
    return SpeechUnderTest(engine, synth_samples)
