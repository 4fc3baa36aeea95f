"""A running job's lease is renewed, so a long job is never taken over while its worker lives.

A real SQLite job table; the transcriber stand-in holds the job open until the test lets it finish (as an hour of
audio does on whisper) while the test moves the lease clock past the first lease, and a second worker trying to
claim the job meanwhile is turned away. The clock is a fake, so a busy machine cannot make a lease run out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.bootstrap import build_app, draft_parts
from backend.config import Settings
from backend.domain.models import JobStatus, Role, Segment
from backend.services import scribe
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import JobBusy, ScribeDeps, ScribeLimits, _claim, process_job, submit_recording
from tests.helpers.speech import synth_samples, wav_bytes

NURSE = Principal("nurse", Role.NURSE)
LEASE_S = 0.6
BOUND_S = 30.0  # only a bound for a test that would otherwise hang: every wait below ends at its event


class FakeClock:
    """Epoch milliseconds that move only when the test says so (what the job's lease is measured against)."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now


class HeldTranscriber:
    """Runs until the test releases it, then returns one segment: an honest stand-in for a long transcription."""

    name, low_accuracy = "held", False

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        self.started.set()
        self.release.wait(BOUND_S)
        return [Segment(id=0, start=0.0, end=1.0, text="Take paracetamol 500 mg twice daily.", speaker="doctor")]


def _wait_for(predicate: Callable[[], bool]) -> bool:
    """Poll a store condition until it holds (True) or the bound passes (False)."""
    done = threading.Event()
    for _ in range(int(BOUND_S / 0.02)):
        if predicate():
            return True
        done.wait(0.02)
    return predicate()


def test_lease_is_renewed_while_the_job_runs_and_others_are_turned_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(scribe, "now_ms", clock)  # the clock claims and renewals read
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    base = app.scribe_deps()
    slow = HeldTranscriber()
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
    try:
        assert slow.started.wait(BOUND_S), app.stores.jobs.get(job.job_id).error
        first_lease = int(app.stores.jobs.get(job.job_id).params["lease_until"])
        assert first_lease == clock.now + int(LEASE_S * 1000)
        clock.now += int(2 * LEASE_S * 1000)  # past the first lease: only a renewal keeps the claim
        assert _wait_for(lambda: int(app.stores.jobs.get(job.job_id).params["lease_until"]) > clock.now), (
            "the running job's lease was never renewed"
        )
        running = app.stores.jobs.get(job.job_id)
        assert running.status is JobStatus.TRANSCRIBING
        with pytest.raises(JobBusy):
            _claim(app.stores, job.job_id, LEASE_S)  # a second delivery of the message is turned away
    finally:
        slow.release.set()
        worker.join(BOUND_S)
    assert not worker.is_alive()

    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY, done.error  # renewals never made a status update fail
    assert done.attempts == 1
    note = app.stores.notes.get(pid, done.result_note_ts or 0)
    assert "paracetamol" in " ".join(note.sections.values()).lower()
