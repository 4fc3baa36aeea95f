"""Content-addressed recordings shared by two patients, on a real SQLite store and blob folder.

The same bytes stored for two patients are one file (the key is their sha256), so deleting "patient A's
recording" must consider every patient that uses it: one patient's retention purge may not take another's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.bootstrap import App
from backend.domain.models import Job, JobStatus, Note, Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.retention import purge_audio
from tests.helpers.recordings import NOW, local_app, recorded_note

ADMIN = Principal("admin", Role.ADMIN)
NURSE = Principal("nurse", Role.NURSE)
AUDIO = b"RIFF one consultation recorded for two patients"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    return local_app(tmp_path, monkeypatch)


def _patient(app: App, name: str) -> str:
    return register_patient(app.stores, NURSE, PatientInput(name=name)).patient.patient_id


def _note(app: App, pid: str, *, signed_days_ago: int | None, ts: int = 1_000) -> Note:
    return recorded_note(app, pid, signed_days_ago=signed_days_ago, ts=ts, audio=AUDIO)


@pytest.mark.parametrize("other", ["draft", "recently-signed", "failed-job"])
def test_a_purge_keeps_a_recording_another_patient_still_needs(app: App, other: str) -> None:
    old = _note(app, _patient(app, "Expired Case"), signed_days_ago=400)
    second = _patient(app, "Second Case")
    if other == "failed-job":  # awaiting a retry, which needs the audio
        key = app.blobs.put(AUDIO, "audio/wav", prefix="audio")
        app.stores.jobs.add(
            Job(job_id="JOB_retry", kind="scribe", patient_id=second, blob_key=key, status=JobStatus.FAILED)
        )
    else:
        _note(app, second, signed_days_ago=None if other == "draft" else 10)
    assert old.audio_key is not None

    report = purge_audio(app.stores, app.blobs, ADMIN, 365, now=NOW)

    assert report.deleted == [] and app.blobs.exists(old.audio_key)
    assert not [e for e in app.stores.audit.query(limit=50).items if e.action == "retention.delete_audio"]


def test_a_recording_expired_for_both_patients_is_deleted_once_and_audited_for_each(app: App) -> None:
    first, second = _patient(app, "First Case"), _patient(app, "Second Case")
    old = _note(app, first, signed_days_ago=400)
    _note(app, second, signed_days_ago=500)
    assert old.audio_key is not None

    report = purge_audio(app.stores, app.blobs, ADMIN, 365, now=NOW)

    assert report.deleted == [old.audio_key] and not app.blobs.exists(old.audio_key)
    deleted = [e for e in app.stores.audit.query(limit=50).items if e.action == "retention.delete_audio"]
    assert sorted(e.patient_id for e in deleted) == sorted([first, second])
