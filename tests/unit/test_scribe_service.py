"""The scribe service's job life on fakes: submit, claim, process, retry, redelivery, a worker dying, resume.

Every port is a fake from ``tests/fakes`` (each passes the adapters' contract suite); the queue's visibility
timeouts run on a fake clock that only the test moves, so "the worker died and its message came back" is
two lines, not a wait. A worker's death is an exception no handler catches (as a killed process writes
nothing more); a worker that is slow while another takes its job over runs the other worker inside its own
transcription, so the interleaving is fixed, not left to threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.audio.decode import encode_wav
from backend.domain.drafting import draft_note
from backend.domain.errors import PermissionDenied, UnsupportedInput, ValidationFailed
from backend.domain.limits import Limits
from backend.domain.models import JobStatus, Patient, Role, Segment
from backend.ports import QueueMessage, RecordStore
from backend.services import scribe
from backend.services.access import Principal
from backend.services.scribe import ScribeDeps
from tests.fakes.audio import FakeCodec
from tests.fakes.blobs import FakeBlobs
from tests.fakes.clock import FakeClock
from tests.fakes.queue import FakeQueue
from tests.fakes.records import fake_record_store
from tests.fakes.speech import ScriptedTranscriber
from tests.helpers.speech import tone_bursts as tone

NURSE = Principal("nurse", Role.NURSE)
PATIENT = "PAT_0000c0de"
VISIBILITY_S = 120
SCRIPT = [
    (0.0, 2.5, "Good morning, what brings you in today?", "clinician"),
    (2.5, 5.5, "I have had a cough and a fever for three days.", "patient"),
    (5.5, 8.0, "Take paracetamol 500 mg twice daily for three days.", "clinician"),
]


class WorkerKilled(BaseException):
    """A worker process dying mid-job: no handler catches it, so nothing after it is written."""


class Harness:
    """The scribe service on fakes, with the transcriber's behaviour per call set by the test."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.clock = FakeClock()
        self.stores: RecordStore = fake_record_store()
        self.blobs = FakeBlobs()
        self.queue = FakeQueue(self.clock)
        self.speech = ScriptedTranscriber(SCRIPT)
        self.before_transcribing: list[Callable[[], None]] = []  # run (and dropped) one per transcription
        self.deps = ScribeDeps(
            stores=self.stores,
            blobs=self.blobs,  # type: ignore[arg-type]
            queue=self.queue,
            codec=FakeCodec(),
            transcriber=lambda: self,
            draft=draft_note,
            limits=Limits(max_audio_seconds=120, max_audio_bytes=10 * 1024 * 1024, job_max_attempts=max_attempts),
        )
        self.stores.patients.add(Patient(patient_id=PATIENT, name="Cough Fever"))

    # The transcriber the service sees: the script, after whatever the test queued for this call.
    name, low_accuracy = "scripted", False

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        if self.before_transcribing:
            self.before_transcribing.pop(0)()
        return self.speech.transcribe(samples, language)

    def submit(self, seconds: float = 8.0) -> str:
        return scribe.submit_recording(self.deps, NURSE, PATIENT, encode_wav(tone(seconds)), "visit.wav").job_id

    def deliver(self) -> QueueMessage:
        """What a worker does (``backend.worker.loop``): receive, handle, ack; on an error, release for a retry.

        A killed worker does neither: its message stays hidden until the visibility timeout.
        """
        message = self.queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
        assert message is not None, "nothing to deliver"
        try:
            scribe.process_job(self.deps, message.job_id)
        except Exception:
            self.queue.release(message)
            raise
        self.queue.ack(message)
        return message

    def notes_of(self, job_id: str) -> int:
        return sum(n.job_id == job_id for n in self.stores.notes.list_for_patient(PATIENT).items)


def _die() -> None:
    raise WorkerKilled


def _fail() -> None:
    raise RuntimeError("engine crashed")


def test_submit_stores_the_audio_queues_a_job_and_audits_it() -> None:
    h = Harness()
    job = h.stores.jobs.get(h.submit(seconds=8.0))
    assert (job.status, job.attempts, job.created_by) == (JobStatus.QUEUED, 0, "nurse")
    assert h.blobs.exists(job.blob_key) and h.queue.depth() == 1
    assert [e.action for e in h.stores.audit.query(patient_id=PATIENT).items] == ["scribe.submit"]


@pytest.mark.parametrize(
    ("data", "filename", "why"),
    [
        (b"", "visit.wav", "empty"),
        (b"%PDF-1.7 not audio", "visit.wav", "cannot be read"),
        (encode_wav(tone(1.0)), "notes.pdf", "is not an audio file"),
        (encode_wav(tone(121.0)), "visit.wav", "the limit is 2 minutes"),
    ],
)
def test_bad_recordings_are_refused_before_anything_is_stored(data: bytes, filename: str, why: str) -> None:
    h = Harness()
    with pytest.raises(UnsupportedInput, match=why):
        scribe.submit_recording(h.deps, NURSE, PATIENT, data, filename)
    assert h.blobs.blobs == {} and h.stores.jobs.list_for_patient(PATIENT) == [] and h.queue.depth() == 0


def test_only_roles_that_record_can_submit() -> None:
    h = Harness()
    with pytest.raises(PermissionDenied):
        scribe.submit_recording(h.deps, Principal("admin", Role.ADMIN), PATIENT, encode_wav(tone(2.0)), "a.wav")


def test_a_delivered_job_ends_ready_with_one_note_from_its_transcript() -> None:
    h = Harness()
    job_id = h.submit()
    h.deliver()
    job = h.stores.jobs.get(job_id)
    assert (job.status, job.attempts, job.error) == (JobStatus.READY, 1, None)
    note = h.stores.notes.get(PATIENT, job.result_note_ts or 0)
    assert (note.job_id, note.audio_key, note.author) == (job_id, job.blob_key, "nurse")
    assert [s.text for s in note.transcript] == [text for _, _, text, _ in SCRIPT]
    assert h.queue.depth() == 0


def test_a_redelivered_finished_job_is_not_transcribed_again() -> None:
    h = Harness()
    job_id = h.submit()
    h.queue.send(job_id)  # at-least-once: the same job twice
    h.deliver()
    h.deliver()
    assert h.speech.calls == 1 and h.notes_of(job_id) == 1
    assert h.stores.jobs.get(job_id).attempts == 1


def test_an_unexpected_error_is_retried_then_succeeds() -> None:
    h = Harness()
    job_id = h.submit()
    h.before_transcribing.append(_fail)
    with pytest.raises(RuntimeError):
        h.deliver()  # the worker releases the message: the retry
    job = h.stores.jobs.get(job_id)
    assert (job.status, job.attempts, job.error) == (JobStatus.QUEUED, 1, "Attempt 1 failed; retrying.")
    h.deliver()
    assert (h.stores.jobs.get(job_id).status, h.stores.jobs.get(job_id).attempts) == (JobStatus.READY, 2)
    assert h.notes_of(job_id) == 1


def test_repeated_errors_fail_the_job_after_the_last_attempt_and_a_user_can_retry_it() -> None:
    h = Harness(max_attempts=2)
    job_id = h.submit()
    h.before_transcribing += [_fail, _fail]
    with pytest.raises(RuntimeError):
        h.deliver()
    h.deliver()  # the last attempt: the job fails, the message is acked
    failed = h.stores.jobs.get(job_id)
    assert failed.status is JobStatus.FAILED and "failed 2 times (RuntimeError)" in (failed.error or "")
    assert h.queue.depth() == 0 and h.notes_of(job_id) == 0

    again = scribe.retry_job(h.deps, NURSE, job_id)
    assert (again.status, again.attempts, again.error) == (JobStatus.QUEUED, 0, None)
    h.deliver()
    assert h.stores.jobs.get(job_id).status is JobStatus.READY and h.notes_of(job_id) == 1
    assert "scribe.retry" in [e.action for e in h.stores.audit.query(patient_id=PATIENT).items]


def test_silence_fails_at_once_with_the_reason_and_a_failed_job_can_be_deleted() -> None:
    h = Harness()
    job_id = scribe.submit_recording(
        h.deps, NURSE, PATIENT, encode_wav(np.zeros(16_000 * 3, dtype=np.float32)), "quiet.wav"
    ).job_id
    h.deliver()
    failed = h.stores.jobs.get(job_id)
    assert failed.status is JobStatus.FAILED and failed.attempts == 1
    assert failed.error == scribe.NO_SPEECH and h.speech.calls == 0
    with pytest.raises(ValidationFailed, match="Only failed jobs"):
        scribe.retry_job(h.deps, NURSE, h.submit())
    scribe.delete_job(h.deps, NURSE, job_id)
    assert job_id not in {j.job_id for j in h.stores.jobs.list_for_patient(PATIENT)}
    assert not h.blobs.exists(failed.blob_key)


def test_a_worker_that_dies_mid_job_is_taken_over_once_its_message_comes_back() -> None:
    h = Harness()
    job_id = h.submit()
    h.before_transcribing.append(_die)
    with pytest.raises(WorkerKilled):
        h.deliver()
    assert h.stores.jobs.get(job_id).status is JobStatus.TRANSCRIBING  # left mid-way, nobody extends the message
    h.clock.pass_seconds(VISIBILITY_S - 1)
    assert h.queue.receive(wait_seconds=0) is None  # still hidden: the worker might only be slow
    h.clock.pass_seconds(2)
    message = h.deliver()
    assert message.receive_count == 2
    done = h.stores.jobs.get(job_id)
    assert (done.status, done.attempts) == (JobStatus.READY, 2) and h.notes_of(job_id) == 1
    assert h.queue.depth() == 0


def test_a_worker_taken_over_while_slow_writes_nothing_more() -> None:
    h = Harness()
    job_id = h.submit()
    first = h.queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
    assert first is not None

    def taken_over_meanwhile() -> None:
        # The slow worker's message came back (its heartbeat stopped reaching the queue) and another took it.
        h.clock.pass_seconds(VISIBILITY_S + 1)
        h.deliver()

    h.before_transcribing.append(taken_over_meanwhile)
    scribe.process_job(h.deps, first.job_id)  # the slow worker finishes its transcription afterwards
    done = h.stores.jobs.get(job_id)
    assert (done.status, done.attempts) == (JobStatus.READY, 2)  # the second worker's outcome stands
    assert h.notes_of(job_id) == 1 and h.speech.calls == 2
    h.queue.ack(first)  # the slow worker's late ack of a message received again since: no effect
    assert h.queue.depth() == 0


def test_a_worker_taken_over_writes_nothing_while_the_new_holder_is_still_running() -> None:
    h = Harness()
    job_id = h.submit()

    def taken_over_and_still_running() -> None:
        h.clock.pass_seconds(VISIBILITY_S + 1)
        second = h.queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
        assert second is not None
        h.before_transcribing.append(_die)  # the second worker is frozen mid-transcription (its stack ends here)
        with pytest.raises(WorkerKilled):
            scribe.process_job(h.deps, second.job_id)

    h.before_transcribing.append(taken_over_and_still_running)
    h.deliver()  # the first worker's transcription ends while the second one holds the job
    job = h.stores.jobs.get(job_id)
    assert (job.status, job.attempts, job.result_note_ts) == (JobStatus.TRANSCRIBING, 2, None)  # untouched
    assert h.notes_of(job_id) == 0


def test_a_worker_taken_over_that_then_fails_leaves_the_outcome_to_the_new_one() -> None:
    h = Harness()
    job_id = h.submit()

    def taken_over_then_crash() -> None:
        h.clock.pass_seconds(VISIBILITY_S + 1)
        h.deliver()  # the second worker finishes the job
        raise RuntimeError("the first worker's engine crashes afterwards")

    h.before_transcribing.append(taken_over_then_crash)
    h.deliver()  # no retry is asked for (nothing raised to the worker): the job is not this attempt's any more
    done = h.stores.jobs.get(job_id)
    assert (done.status, done.attempts, done.error) == (JobStatus.READY, 2, None)
    assert h.notes_of(job_id) == 1 and h.queue.depth() == 0


def test_a_recording_that_kills_every_worker_fails_after_the_last_attempt() -> None:
    h = Harness(max_attempts=2)
    job_id = h.submit()
    h.before_transcribing += [_die, _die]
    for _ in range(2):
        with pytest.raises(WorkerKilled):
            h.deliver()
        h.clock.pass_seconds(VISIBILITY_S + 1)
    h.deliver()
    failed = h.stores.jobs.get(job_id)
    assert failed.status is JobStatus.FAILED and "stopped 2 times before finishing" in (failed.error or "")
    assert h.speech.calls == 0 and h.queue.depth() == 0  # the killed calls never reached the script


def test_resume_after_a_restart_finishes_queued_and_interrupted_jobs() -> None:
    h = Harness()
    queued, interrupted = h.submit(), h.submit(seconds=7.0)
    h.queue = FakeQueue(h.clock)  # the restarted app's queue: the old messages are lost or hidden
    h.deps = replace(h.deps, queue=h.queue)
    h.stores.jobs.update(
        h.stores.jobs.get(interrupted).model_copy(update={"status": JobStatus.DRAFTING, "attempts": 1}),
        h.stores.jobs.get(interrupted).version,
    )
    assert scribe.resume_interrupted(h.deps) == 2
    h.deliver()
    h.deliver()
    for job_id, attempts in ((queued, 1), (interrupted, 2)):
        job = h.stores.jobs.get(job_id)
        assert (job.status, job.attempts) == (JobStatus.READY, attempts) and h.notes_of(job_id) == 1
    assert scribe.resume_interrupted(h.deps) == 0
