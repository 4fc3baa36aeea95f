"""Worker faults: a worker SIGKILLed mid-transcription, and an app restarted with jobs queued or half-done.

Real pieces only: the SQLite queue and store in a temp data dir, ``python -m backend.worker`` processes,
faster-whisper on espeak-ng speech. Each job must end ``ready`` with exactly one note and its audio intact.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import Job, JobStatus, Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import _claim, submit_recording
from backend.worker.local import start_local_worker
from tests.conftest import ROOT
from tests.helpers.speech import synth_samples, wav_bytes, whisper_model_dir
from tests.helpers.waits import wait_until

__all__ = ["whisper_model_dir"]  # fixture imported for pytest

NURSE = Principal("nurse", Role.NURSE)
SENTENCE = "I have had a headache and a fever for three days. My blood pressure was high last week. "


def _settings(data_dir: Path, model: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        store="sqlite",
        blobs="local",
        queue="sqlite",
        stt="whisper",
        llm="rules",
        whisper_model=str(model),
    )


def _env(data_dir: Path, model: Path) -> dict[str, str]:
    return {
        **os.environ,
        "COPILOT_DATA_DIR": str(data_dir),
        "COPILOT_WHISPER_MODEL": str(model),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_STT": "whisper",
        "COPILOT_LLM": "rules",
    }


def _notes_of(app: App, job: Job) -> list[str]:
    notes = app.stores.notes.list_for_patient(job.patient_id, limit=200).items
    return [str(n.timestamp) for n in notes if n.job_id == job.job_id]


@pytest.fixture
def worker_procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=20)


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "backend.worker", "--heartbeat", "1", "--visibility", "4", "--wait", "0.5"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_worker_killed_mid_transcription_completes_once(
    tmp_path: Path, whisper_model_dir: Path, worker_procs: list[subprocess.Popen[bytes]]
) -> None:
    data = tmp_path / "data"
    app = build_app(_settings(data, whisper_model_dir))
    pid = register_patient(app.stores, NURSE, PatientInput(name="Killed Worker")).patient.patient_id
    audio = wav_bytes(synth_samples(SENTENCE * 8))  # about a minute of speech: seconds of CPU transcription
    job = submit_recording(app.scribe_deps(), NURSE, pid, audio, "long-visit.wav")
    digest = hashlib.sha256(audio).hexdigest()

    log = tmp_path / "worker.log"
    first = _spawn(_env(data, whisper_model_dir), log)
    worker_procs.append(first)
    wait_until(
        lambda: app.stores.jobs.get(job.job_id).status is JobStatus.TRANSCRIBING, 120, "the worker to claim the job"
    )
    # Killed as soon as it holds the job (loading the model or transcribing a minute of speech: seconds either way).
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert app.stores.jobs.get(job.job_id).status is JobStatus.TRANSCRIBING, log.read_text()  # died mid-job
    assert _notes_of(app, job) == []

    second = _spawn(_env(data, whisper_model_dir), log)
    worker_procs.append(second)
    wait_until(
        lambda: app.stores.jobs.get(job.job_id).status in (JobStatus.READY, JobStatus.FAILED),
        150,
        "the job to finish after restart",
    )
    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY, done.error
    assert done.attempts == 2  # the killed attempt and the one that finished
    assert len(_notes_of(app, job)) == 1
    note = app.stores.notes.get(pid, done.result_note_ts or 0)
    heard = " ".join(s.text.lower() for s in note.transcript)
    # whisper may drop some of the eight repeats of the sentence; the note must still come from this audio
    assert note.audio_key == job.blob_key and any(w in heard for w in ("headache", "fever", "blood pressure"))
    assert hashlib.sha256(app.blobs.get(job.blob_key)).hexdigest() == digest
    wait_until(lambda: app.queue.depth() == 0, 60, "the message to be acknowledged")  # type: ignore[attr-defined]
    # Nothing is left to deliver; once the worker has exited nothing can still be running either.
    second.terminate()
    assert second.wait(timeout=60) == 0, log.read_text()
    assert len(_notes_of(app, job)) == 1


def test_app_restart_completes_queued_and_interrupted_jobs(tmp_path: Path, whisper_model_dir: Path) -> None:
    data = tmp_path / "data"
    before = build_app(_settings(data, whisper_model_dir))  # the app before the restart: no worker running
    pid = register_patient(before.stores, NURSE, PatientInput(name="Restart Patient")).patient.patient_id
    deps = before.scribe_deps()
    phrases = [
        "Take metformin five hundred milligrams twice daily.",
        "The cough started two days ago.",
        "No chest pain today.",
    ]
    jobs = [
        submit_recording(deps, NURSE, pid, wav_bytes(synth_samples(p)), f"visit-{i}.wav") for i, p in enumerate(phrases)
    ]
    # The first job was mid-way when the app died: claimed and its message in flight.
    assert before.queue.receive(wait_seconds=0, visibility_seconds=600) is not None
    assert _claim(before.stores, jobs[0].job_id, max_attempts=3) is not None
    assert before.stores.jobs.get(jobs[0].job_id).status is JobStatus.TRANSCRIBING

    after = build_app(_settings(data, whisper_model_dir))  # a new process opening the same data dir
    stop = start_local_worker(after)
    try:
        wait_until(
            lambda: all(after.stores.jobs.get(j.job_id).status in (JobStatus.READY, JobStatus.FAILED) for j in jobs),
            180,
            "every job to finish",
        )
        # Every duplicate (the originals and the re-sent copies) delivered and acknowledged, so none is still being
        # handled: only the dead app's in-flight message is left, hidden for its 600 s.
        wait_until(lambda: after.queue.depth() == 1, 60, "the duplicates to be handled")  # type: ignore[attr-defined]
    finally:
        stop.set()
    for j in jobs:
        final = after.stores.jobs.get(j.job_id)
        assert final.status is JobStatus.READY, final.error
        assert len(_notes_of(after, j)) == 1
