"""Audio retention on a real SQLite store and blob folder: old signed recordings go, everything else stays.

``python -m backend purge-audio`` is run as the operator would run it (the CLI entry point), after the
service's own cases: expired and signed → deleted (audited); a draft, a recent signature, a recording shared
with a draft amendment, a failed job awaiting retry → kept; dry run → nothing deleted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.__main__ import main
from backend.bootstrap import App
from backend.domain.errors import PermissionDenied, ValidationFailed
from backend.domain.models import Job, JobStatus, Note, NoteStatus, Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.retention import purge_audio
from tests.helpers.recordings import NOW, local_app, recorded_note

ADMIN = Principal("admin", Role.ADMIN)
NURSE = Principal("nurse", Role.NURSE)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    return local_app(tmp_path, monkeypatch)


def _recorded(app: App, pid: str, *, signed_days_ago: int | None, ts: int, audio: str | None = None) -> Note:
    sections = {"plan": "Paracetamol 500 mg."}
    recording = audio or f"audio of {ts}".encode()  # distinct bytes: one blob per note unless shared on purpose
    return recorded_note(app, pid, signed_days_ago=signed_days_ago, ts=ts, audio=recording, sections=sections)


def test_only_expired_signed_recordings_not_in_use_are_deleted(app: App) -> None:
    pid = register_patient(app.stores, NURSE, PatientInput(name="Retention Case")).patient.patient_id
    old = _recorded(app, pid, signed_days_ago=400, ts=1_000)
    recent = _recorded(app, pid, signed_days_ago=10, ts=2_000)
    draft = _recorded(app, pid, signed_days_ago=None, ts=3_000)
    shared = _recorded(app, pid, signed_days_ago=400, ts=4_000)
    _recorded(app, pid, signed_days_ago=None, ts=5_000, audio=shared.audio_key)  # its amendment is a draft
    retry = _recorded(app, pid, signed_days_ago=400, ts=6_000)
    app.stores.jobs.add(
        Job(job_id="JOB_retry", kind="scribe", patient_id=pid, blob_key=retry.audio_key or "", status=JobStatus.FAILED)
    )

    dry = purge_audio(app.stores, app.blobs, ADMIN, 365, now=NOW, dry_run=True)
    assert dry.deleted == [old.audio_key] and app.blobs.exists(old.audio_key or "")

    report = purge_audio(app.stores, app.blobs, ADMIN, 365, now=NOW)
    assert report.deleted == [old.audio_key] and report.kept_in_use == 1
    assert not app.blobs.exists(old.audio_key or "")
    for kept in (recent, draft, shared, retry):
        assert app.blobs.exists(kept.audio_key or "")
    assert app.stores.notes.get(pid, old.timestamp).transcript == old.transcript  # the note itself is untouched
    actions = [e.action for e in app.stores.audit.query(limit=50).items]
    assert "retention.delete_audio" in actions and "retention.purge_audio" in actions
    assert purge_audio(app.stores, app.blobs, ADMIN, 365, now=NOW).deleted == []  # idempotent


def test_policy_off_and_wrong_role_are_refused(app: App) -> None:
    with pytest.raises(ValidationFailed, match="COPILOT_AUDIO_RETENTION_DAYS"):
        purge_audio(app.stores, app.blobs, ADMIN, 0)
    with pytest.raises(PermissionDenied):
        purge_audio(app.stores, app.blobs, NURSE, 30)


def test_cli_applies_the_configured_period(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = register_patient(app.stores, NURSE, PatientInput(name="Cli Case")).patient.patient_id
    old = app.stores.notes.add(
        Note(
            patient_id=pid,
            audio_key=app.blobs.put(b"old audio", "audio/wav", prefix="audio"),
            status=NoteStatus.SIGNED,
            signer="doctor",
            signed_at=1_000,  # 1970: long past any period
        )
    )
    assert main(["purge-audio"]) == 2  # retention is off by default: a clear refusal
    assert "COPILOT_AUDIO_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("COPILOT_AUDIO_RETENTION_DAYS", "30")
    assert main(["purge-audio", "--dry-run"]) == 0
    assert "would delete 1 recording" in capsys.readouterr().out and app.blobs.exists(old.audio_key or "")
    assert main(["purge-audio"]) == 0
    assert "deleted 1 recording" in capsys.readouterr().out and not app.blobs.exists(old.audio_key or "")
