"""Orphaned PHI files (issue 16, finding 10): no file is left behind by a failed record write, and no file a
record still names is ever deleted, whichever patient's record it is (stored files are content-addressed: the
same bytes for two patients are one file).

Real SQLite stores and real local blobs; the fault is a record port wrapped over the real SQLite one, which
raises before writing (the database was unreachable) or after writing (the write committed but its reply was
lost, so the caller sees a failure for a row that exists).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from backend.__main__ import main
from backend.bootstrap import App, build_app
from backend.cli.blobs import delete_orphans, scan_orphans
from backend.config import Settings
from backend.domain.errors import StoreUnavailable
from backend.domain.models import JobStatus, Medication, Note, Role
from backend.services.access import Principal
from backend.services.digitize import Reading, save_digitized
from backend.services.document_jobs import submit_document
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import delete_job, submit_recording
from tests.helpers.prescriptions import text_pdf
from tests.helpers.speech import tone_bursts, wav_bytes

NURSE = Principal("nurse", Role.NURSE)
DOCUMENT_TEXT = "Tab Metformin 500 mg 1-0-1"


class FailingWrites:
    """A real record port whose next ``add`` fails: before the write (``committed=False``) or after it."""

    def __init__(self, inner: Any, *, committed: bool = False) -> None:
        self._inner = inner
        self.committed = committed
        self.armed = True

    def add(self, item: Any) -> Any:
        if not self.armed:
            return self._inner.add(item)
        self.armed = False
        if self.committed:
            self._inner.add(item)
        raise StoreUnavailable("The database could not be reached; nothing was saved. Try again.")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def app(tmp_path: Path) -> App:
    return build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))


def _patient(app: App, name: str) -> str:
    return register_patient(app.stores, NURSE, PatientInput(name=name)).patient.patient_id


def _files(app: App) -> list[Path]:
    return [p for p in app.settings.blob_root.rglob("*") if p.is_file()]


def _fail_next(app: App, port: str, *, committed: bool = False) -> FailingWrites:
    wrapper = FailingWrites(getattr(app.stores, port), committed=committed)
    app.stores = dataclasses.replace(app.stores, **{port: wrapper})
    return wrapper


def _reading() -> Reading:
    return Reading(filename="rx.pdf", mime="application/pdf", pages=[], text=DOCUMENT_TEXT)


def _medications() -> list[Medication]:
    return [Medication(name="metformin", verbatim=DOCUMENT_TEXT)]


def test_recording_whose_job_write_fails_leaves_no_file(app: App) -> None:
    pid = _patient(app, "Orphan Audio")
    _fail_next(app, "jobs")
    with pytest.raises(StoreUnavailable):
        submit_recording(app.scribe_deps(), NURSE, pid, wav_bytes(tone_bursts(2.0)), "visit.wav")
    assert _files(app) == [] and app.stores.jobs.list_for_patient(pid) == []


def test_recording_whose_write_committed_before_failing_keeps_its_file(app: App) -> None:
    pid = _patient(app, "Lost Reply")
    audio = wav_bytes(tone_bursts(2.0))
    _fail_next(app, "jobs", committed=True)
    with pytest.raises(StoreUnavailable):
        submit_recording(app.scribe_deps(), NURSE, pid, audio, "visit.wav")
    (job,) = app.stores.jobs.list_for_patient(pid)
    assert app.blobs.get(job.blob_key) == audio  # the row exists, so its audio must too


def test_failed_write_keeps_the_same_recording_another_patient_uses(app: App) -> None:
    first, second = _patient(app, "First Patient"), _patient(app, "Second Patient")
    audio = wav_bytes(tone_bursts(2.0))
    kept = submit_recording(app.scribe_deps(), NURSE, first, audio, "visit.wav")
    _fail_next(app, "jobs")
    with pytest.raises(StoreUnavailable):
        submit_recording(app.scribe_deps(), NURSE, second, audio, "visit.wav")
    assert app.blobs.get(kept.blob_key) == audio


def test_document_whose_history_write_fails_leaves_no_file(app: App) -> None:
    pid = _patient(app, "Orphan Document")
    document = b"%PDF-1.4\n" + b"x" * 5000
    _fail_next(app, "history")
    with pytest.raises(StoreUnavailable):
        save_digitized(app.digitize_deps(), NURSE, pid, document, _reading(), _medications())
    assert _files(app) == []
    # Saved again once the database is back, the entry names a file that exists.
    entry = save_digitized(app.digitize_deps(), NURSE, pid, document, _reading(), _medications())
    assert app.blobs.get(entry.document_key or "") == document


def test_failed_document_save_keeps_the_same_document_another_patient_saved(app: App) -> None:
    first, second = _patient(app, "First Patient"), _patient(app, "Second Patient")
    document = b"%PDF-1.4\n" + b"y" * 5000
    saved = save_digitized(app.digitize_deps(), NURSE, first, document, _reading(), _medications())
    _fail_next(app, "history")
    with pytest.raises(StoreUnavailable):
        save_digitized(app.digitize_deps(), NURSE, second, document, _reading(), _medications())
    assert app.blobs.get(saved.document_key or "") == document


def test_document_job_whose_write_fails_leaves_no_file(app: App) -> None:
    pid = _patient(app, "Orphan Document Job")
    _fail_next(app, "jobs")
    with pytest.raises(StoreUnavailable):
        submit_document(app.digitize_deps(), app.queue, NURSE, pid, text_pdf([[DOCUMENT_TEXT]]), "rx.pdf")
    assert _files(app) == [] and app.stores.jobs.list_for_patient(pid) == []


def _failed_job(app: App, pid: str, audio: bytes) -> str:
    job = submit_recording(app.scribe_deps(), NURSE, pid, audio, "visit.wav")
    stored = app.stores.jobs.get(job.job_id)
    app.stores.jobs.update(stored.model_copy(update={"status": JobStatus.FAILED}), stored.version)
    return job.job_id


@pytest.mark.parametrize("same_patient", [True, False], ids=["own-note", "other-patients-note"])
def test_delete_job_keeps_audio_a_note_still_needs(app: App, same_patient: bool) -> None:
    pid = _patient(app, "Failed Job")
    audio = wav_bytes(tone_bursts(2.0))
    job_id = _failed_job(app, pid, audio)
    key = app.stores.jobs.get(job_id).blob_key
    # A note made from the same recording (an earlier upload of it, whose job is long gone).
    owner = pid if same_patient else _patient(app, "Note Owner")
    app.stores.notes.add(Note(patient_id=owner, author="nurse", audio_key=key))
    delete_job(app.scribe_deps(), NURSE, job_id)
    assert app.blobs.get(key) == audio


def test_delete_job_keeps_audio_another_patients_job_needs(app: App) -> None:
    first, second = _patient(app, "First Patient"), _patient(app, "Second Patient")
    audio = wav_bytes(tone_bursts(2.0))
    waiting = submit_recording(app.scribe_deps(), NURSE, first, audio, "visit.wav")
    delete_job(app.scribe_deps(), NURSE, _failed_job(app, second, audio))
    assert app.blobs.get(waiting.blob_key) == audio


def test_delete_job_deletes_audio_nothing_else_names(app: App) -> None:
    pid = _patient(app, "Only Use")
    job_id = _failed_job(app, pid, wav_bytes(tone_bursts(2.0)))
    key = app.stores.jobs.get(job_id).blob_key
    delete_job(app.scribe_deps(), NURSE, job_id)
    assert not app.blobs.exists(key) and _files(app) == []


def _age(app: App, key: str, days: float) -> None:
    path = app.settings.blob_root / key
    then = path.stat().st_mtime - days * 86400
    os.utime(path, (then, then))


def test_blobs_orphans_command_deletes_only_old_files_no_record_names(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(app.settings.data_dir))
    pid = _patient(app, "Orphan Census")
    named = submit_recording(app.scribe_deps(), NURSE, pid, wav_bytes(tone_bursts(2.0)), "visit.wav").blob_key
    old = app.blobs.put(b"raw wearable export, 2024", "text/csv", prefix="metrics")  # left by an old import
    young = app.blobs.put(b"an upload still on its way to its record", prefix="audio")
    for key in (named, old):
        _age(app, key, 3)
    assert main(["blobs", "orphans"]) == 0
    listed = capsys.readouterr().out
    assert old in listed and named not in listed and young not in listed
    assert "1 of 3 stored file(s) named by no record; 1 younger than 24 h left alone" in listed
    assert app.blobs.exists(old)  # listing deletes nothing
    assert main(["blobs", "orphans", "--delete"]) == 0
    assert not app.blobs.exists(old) and app.blobs.exists(named) and app.blobs.exists(young)
    (line,) = [e for e in app.stores.audit.query().items if e.action == "blobs.delete_orphan"]
    assert line.detail.startswith(old) and line.role == "operator"


def test_orphan_deletion_rechecks_uses_after_the_scan(app: App) -> None:
    pid = _patient(app, "Late Record")
    audio = wav_bytes(tone_bursts(2.0))
    key = app.blobs.put(audio, prefix="audio")
    scan = scan_orphans(app, grace_s=0)
    assert [o.key for o in scan.orphans] == [key]
    submit_recording(app.scribe_deps(), NURSE, pid, audio, "visit.wav")  # its record arrives after the scan
    assert delete_orphans(app, scan) == [] and app.blobs.get(key) == audio
