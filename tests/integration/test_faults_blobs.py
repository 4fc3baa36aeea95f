"""The blob store failing mid-write: a clear message, nothing half-stored, no record pointing at a missing blob.

The fault is injected inside the real local blob store's atomic writer: the disk "fills up" after half the
bytes were written (ENOSPC), so the adapter's own clean-up and error translation are what is tested.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.errors import StoreUnavailable
from backend.domain.models import Medication, Role
from backend.services.access import Principal
from backend.services.digitize import Reading, save_digitized
from backend.services.metrics import import_metrics
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import submit_recording
from tests.helpers.speech import tone_bursts, wav_bytes

NURSE = Principal("nurse", Role.NURSE)
CSV = b"patient_id,timestamp,metric,value,unit\n" + b"".join(
    f"{{pid}},2024-03-{d:02d}T06:30:00+05:30,resting_hr,{55 + d % 3},bpm\n".encode() for d in range(1, 29)
)


class DiskFullBlobs(LocalBlobStore):
    """A real LocalBlobStore whose disk fills up halfway through the next ``failures`` writes."""

    def __init__(self, root: Path, failures: int = 1) -> None:
        super().__init__(root)
        self.failures = failures
        self.partial_writes = 0

    def _write_atomic(self, path: Path, parts: list[bytes]) -> None:  # type: ignore[override]
        if self.failures <= 0:
            return LocalBlobStore._write_atomic(path, parts)
        self.failures -= 1
        store = self

        def failing() -> Iterator[bytes]:
            for part in parts:
                yield part[: len(part) // 2]
                store.partial_writes += 1
                raise OSError(errno.ENOSPC, "No space left on device")

        return LocalBlobStore._write_atomic(path, failing())  # type: ignore[arg-type]


@pytest.fixture
def app(tmp_path: Path) -> App:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    app.blobs = DiskFullBlobs(app.settings.blob_root)
    return app


def _counts(app: App) -> dict[str, int]:
    with sqlite3.connect(app.settings.db_path) as conn:
        tables = ("jobs", "queue", "history", "metrics", "audit_log", "notes")
        rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    rows["files"] = sum(1 for p in app.settings.blob_root.rglob("*") if p.is_file())  # temp files included
    return rows


def _patient(app: App) -> str:
    return register_patient(app.stores, NURSE, PatientInput(name="Blob Fault")).patient.patient_id


def _assert_clear(error: StoreUnavailable) -> None:
    assert "nothing was stored" in error.message and "Free disk space" in error.message
    assert "Traceback" not in error.message


def test_scribe_submit_with_failing_blob_store(app: App) -> None:
    pid = _patient(app)
    audio = wav_bytes(tone_bursts(3.0))
    before = _counts(app)
    with pytest.raises(StoreUnavailable) as caught:
        submit_recording(app.scribe_deps(), NURSE, pid, audio, "visit.wav")
    _assert_clear(caught.value)
    assert app.blobs.partial_writes == 1  # type: ignore[attr-defined]  # the fault hit mid-write
    assert _counts(app) == before  # no job, no queue message, no audit line, no half file
    # Once the disk has room again, the same upload goes through and its job points at a real blob.
    job = submit_recording(app.scribe_deps(), NURSE, pid, audio, "visit.wav")
    assert app.blobs.get(job.blob_key) == audio


def test_digitize_save_with_failing_blob_store(app: App) -> None:
    pid = _patient(app)
    document = b"%PDF-1.4\n" + b"x" * 5000
    reading = Reading(filename="rx.pdf", mime="application/pdf", pages=[], text="Tab Metformin 500 mg 1-0-1")
    meds = [Medication(name="metformin", verbatim="Tab Metformin 500 mg 1-0-1")]
    before = _counts(app)
    with pytest.raises(StoreUnavailable) as caught:
        save_digitized(app.digitize_deps(), NURSE, pid, document, reading, meds)
    _assert_clear(caught.value)
    assert _counts(app) == before
    entry = save_digitized(app.digitize_deps(), NURSE, pid, document, reading, meds)
    assert app.blobs.get(entry.document_key or "") == document


def test_metrics_import_stores_no_file(app: App) -> None:
    pid = _patient(app)
    data = CSV.replace(b"{pid}", pid.encode())
    report = import_metrics(NURSE, app.stores, app.blobs, pid, data, "hr.csv")
    # The raw file is not kept (no record could name it), so a full disk cannot fail the import.
    assert report.days_written > 0 and report.blob_key is None and _counts(app)["files"] == 0


def test_every_stored_reference_resolves(app: App) -> None:
    """After a run of failures and successes, no record points at a missing blob."""
    pid = _patient(app)
    app.blobs.failures = 2  # type: ignore[attr-defined]
    audio = wav_bytes(tone_bursts(2.0))
    for _ in range(3):
        with contextlib.suppress(StoreUnavailable):
            submit_recording(app.scribe_deps(), NURSE, pid, audio, "v.wav")
    jobs = app.stores.jobs.list_for_patient(pid)
    assert len(jobs) == 1
    assert all(app.blobs.exists(j.blob_key) for j in jobs)
