"""A running job's lease is renewed, so a long job is never taken over while its worker lives.

A real SQLite job table; the transcriber stand-in takes longer than several leases (as an hour of audio does
on whisper), and a second worker trying to claim the job meanwhile is turned away.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.bootstrap import build_app, draft_parts
from backend.config import Settings
from backend.domain.models import JobStatus, Role, Segment
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import JobBusy, ScribeDeps, ScribeLimits, _claim, process_job, submit_recording
from tests.helpers.speech import synth_samples, wav_bytes

NURSE = Principal("nurse", Role.NURSE)
LEASE_S = 0.6


class SlowTranscriber:
    """Takes ``seconds`` (several leases), then returns one segment: an honest stand-in for a long transcription."""

    name, low_accuracy = "slow", False

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        self.started.set()
        time.sleep(self.seconds)
        return [Segment(id=0, start=0.0, end=1.0, text="Take paracetamol 500 mg twice daily.", speaker="doctor")]


def test_lease_is_renewed_while_the_job_runs_and_others_are_turned_away(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    base = app.scribe_deps()
    slow = SlowTranscriber(seconds=4 * LEASE_S)
    deps = ScribeDeps(
        stores=base.stores,
        blobs=base.blobs,
        queue=base.queue,
        codec=base.codec,
        transcriber=lambda: slow,
        draft=draft_parts,
        limits=ScribeLimits(lease_seconds=LEASE_S),
    )
    pid = register_patient(app.stores, NURSE, PatientInput(name="Long Recording")).patient.patient_id
    speech = synth_samples("Take paracetamol five hundred milligrams twice daily.")
    job = submit_recording(deps, NURSE, pid, wav_bytes(speech), "visit.wav")

    worker = threading.Thread(target=process_job, args=(deps, job.job_id))
    worker.start()
    assert slow.started.wait(10), app.stores.jobs.get(job.job_id).error
    first_lease = int(app.stores.jobs.get(job.job_id).params["lease_until"])
    time.sleep(2 * LEASE_S)  # past the first lease: only renewal keeps the claim
    running = app.stores.jobs.get(job.job_id)
    assert running.status is JobStatus.TRANSCRIBING
    assert int(running.params["lease_until"]) > first_lease
    with pytest.raises(JobBusy):
        _claim(app.stores, job.job_id, LEASE_S)  # a second delivery of the message is turned away
    worker.join(30)

    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY, done.error  # renewals never made a status update fail
    assert done.attempts == 1
    note = app.stores.notes.get(pid, done.result_note_ts or 0)
    assert "paracetamol" in " ".join(note.sections.values()).lower()
