"""A running job is kept alive by its queue message alone; once that comes back, the job is taken over.

Real SQLite job table and queue; the queue's clock is a fake, so a busy machine cannot make a message reappear
early. The transcriber stand-in holds the job open until the test lets it finish (as an hour of audio does on
whisper). While the real worker loop's heartbeat extends the message, no other worker can get the job however
long it runs; when the heartbeat stops, the next delivery takes the job over and the old worker's late writes
are refused by the job row (its attempt number is the fence).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from backend.adapters.queues.sqlite import SqliteJobQueue
from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.drafting import draft_note
from backend.domain.models import JobStatus, Role, Segment
from backend.ports import QueueMessage
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import ScribeDeps, process_job, submit_recording
from backend.worker.loop import process_one
from tests.fakes.clock import FakeClock
from tests.helpers.speech import synth_samples, wav_bytes

NURSE = Principal("nurse", Role.NURSE)
VISIBILITY_S = 2
BOUND_S = 30.0  # only a bound for a test that would otherwise hang: every wait below ends at its event


class CountingQueue(SqliteJobQueue):
    """The SQLite queue, counting the heartbeat's extensions so the test can wait for the next one."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        super().__init__(path, clock=clock)
        self.extended = threading.Condition()
        self.extensions = 0

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        super().extend(message, visibility_seconds)
        with self.extended:
            self.extensions += 1
            self.extended.notify_all()

    def wait_extensions(self, count: int) -> bool:
        with self.extended:
            return self.extended.wait_for(lambda: self.extensions >= count, timeout=BOUND_S)


class WorkerKilled(BaseException):
    """A worker process dying mid-job: no handler catches it, so nothing after it is written."""


class HeldTranscriber:
    """Runs ``meanwhile`` (if set), dies (if ``die_next``) or waits for the test's release; then one segment."""

    name, low_accuracy = "held", False

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.meanwhile: Callable[[], None] | None = None
        self.die_next = False
        self.calls = 0

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        self.calls += 1
        self.started.set()
        if self.die_next:
            self.die_next = False
            raise WorkerKilled
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        else:
            self.release.wait(BOUND_S)
        return [Segment(id=0, start=0.0, end=1.0, text="Take paracetamol 500 mg twice daily.", speaker="doctor")]


def _setup(tmp_path: Path) -> tuple[App, ScribeDeps, CountingQueue, FakeClock, HeldTranscriber, str]:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    clock = FakeClock()
    queue = CountingQueue(tmp_path / "jobs-queue.sqlite3", clock)
    held = HeldTranscriber()
    base = app.scribe_deps()
    deps = ScribeDeps(
        stores=base.stores,
        blobs=base.blobs,
        queue=queue,
        codec=base.codec,
        transcriber=lambda: held,
        draft=draft_note,
        limits=base.limits,
    )
    pid = register_patient(app.stores, NURSE, PatientInput(name="Long Recording")).patient.patient_id
    speech = synth_samples("Take paracetamol five hundred milligrams twice daily.")
    job = submit_recording(deps, NURSE, pid, wav_bytes(speech), "visit.wav")
    return app, deps, queue, clock, held, job.job_id


def _notes_of(app: App, patient_id: str, job_id: str) -> int:
    return sum(n.job_id == job_id for n in app.stores.notes.list_for_patient(patient_id).items)


def test_a_long_job_stays_with_its_live_worker(tmp_path: Path) -> None:
    app, deps, queue, clock, held, job_id = _setup(tmp_path)
    message = queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
    assert message is not None
    worker = threading.Thread(
        target=process_one,
        args=(queue, lambda job: process_job(deps, job), message, 0.01, VISIBILITY_S),
    )
    worker.start()
    try:
        assert held.started.wait(BOUND_S), app.stores.jobs.get(job_id).error
        for _ in range(3):  # three visibility timeouts of work
            clock.pass_seconds(VISIBILITY_S)
            # The second extension from now started after the clock moved (the first may have read it before).
            assert queue.wait_extensions(queue.extensions + 2), "the heartbeat stopped extending"
            assert queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S) is None  # nobody else gets it
    finally:
        held.release.set()
        worker.join(BOUND_S)
    assert not worker.is_alive()
    done = app.stores.jobs.get(job_id)
    assert (done.status, done.attempts) == (JobStatus.READY, 1), done.error
    assert _notes_of(app, done.patient_id, job_id) == 1 and queue.depth() == 0


def test_a_job_whose_message_came_back_is_taken_over_and_the_old_worker_is_fenced_out(tmp_path: Path) -> None:
    app, deps, queue, clock, held, job_id = _setup(tmp_path)
    first = queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
    assert first is not None

    def heartbeat_lost_and_taken_over() -> None:
        clock.pass_seconds(VISIBILITY_S + 1)  # nobody extended the first worker's message
        second = queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
        assert second is not None and second.receive_count == 2
        held.die_next = True  # the second worker stops mid-transcription: it holds the job from here on
        with contextlib.suppress(WorkerKilled):
            process_job(deps, second.job_id)

    held.meanwhile = heartbeat_lost_and_taken_over
    process_job(deps, job_id)  # the first worker, still transcribing when the second took over
    job = app.stores.jobs.get(job_id)
    assert (job.status, job.attempts) == (JobStatus.TRANSCRIBING, 2)  # the first worker's late writes refused
    assert _notes_of(app, job.patient_id, job_id) == 0

    clock.pass_seconds(VISIBILITY_S + 1)  # the second worker's message comes back too: a third takes over
    third = queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)
    assert third is not None and third.receive_count == 3
    held.release.set()  # the third worker's transcription runs to its end (no test waits on it)
    assert process_one(queue, lambda job: process_job(deps, job), third, 0.01, VISIBILITY_S)
    done = app.stores.jobs.get(job_id)
    assert (done.status, done.attempts) == (JobStatus.READY, 3), done.error
    assert _notes_of(app, done.patient_id, job_id) == 1 and held.calls == 3
    assert queue.depth() == 0
