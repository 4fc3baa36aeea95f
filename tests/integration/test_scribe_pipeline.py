"""The durable scribe pipeline on a real SQLite file, real PyAV decoding and real whisper."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.errors import UnsupportedInput, ValidationFailed
from backend.domain.models import JobStatus, Role
from backend.services import scribe
from backend.services.access import Principal
from backend.services.demo import seed_demo
from backend.services.notes import amend_note, save_draft, sign_note
from tests.helpers.speech import SAMPLE_RATE, synth_samples, wav_bytes, whisper_model_dir

__all__ = ["whisper_model_dir"]
NURSE = Principal("nurse", Role.NURSE)
DOCTOR = Principal("doctor", Role.DOCTOR)
PATIENT = "PAT_de000001"
SPEECH = "I have had a fever and a cough for three days. I do not have chest pain. I take metformin 500 milligrams twice daily."


@pytest.fixture
def app(tmp_path: Path, whisper_model_dir: Path) -> App:
    application = build_app(Settings(data_dir=tmp_path, whisper_model=str(whisper_model_dir)))
    seed_demo(application.stores)
    return application


@pytest.fixture(scope="module")
def consultation() -> bytes:
    return wav_bytes(synth_samples(SPEECH))


def drain(app: App) -> int:
    handled = 0
    while (message := app.queue.receive(wait_seconds=0.1)) is not None:
        app.handle_job(message.job_id)
        app.queue.ack(message)
        handled += 1
    return handled


def test_recording_becomes_a_draft_with_evidence(app: App, consultation: bytes) -> None:
    job = scribe.submit_recording(app.scribe_deps(), NURSE, PATIENT, consultation, "visit.wav")
    assert app.blobs.get(job.blob_key) == consultation  # stored before any processing
    assert drain(app) == 1
    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY and done.result_note_ts is not None
    note = app.stores.notes.get(PATIENT, done.result_note_ts)
    assert note.audio_key == job.blob_key and note.transcript
    meds = {m.name: m for m in note.medications}
    assert "metformin" in meds and meds["metformin"].strength == "500 mg"
    assert meds["metformin"].evidence.segment_ids  # linked to the transcript
    symptoms = {s.name: s.present for s in note.symptoms}
    assert symptoms.get("fever") is True and symptoms.get("chest pain") is False
    assert note.sentences and all(s.segment_ids for s in note.sentences)


def test_redelivery_and_retry_never_make_a_second_note(app: App, consultation: bytes) -> None:
    deps = app.scribe_deps()
    job = scribe.submit_recording(deps, NURSE, PATIENT, consultation, "visit.wav")
    app.queue.send(job.job_id)  # at-least-once: the same job delivered twice
    drain(app)
    scribe.process_job(deps, job.job_id)  # and once more by hand
    made = [n for n in app.stores.notes.list_for_patient(PATIENT).items if n.job_id == job.job_id]
    assert len(made) == 1


def test_job_interrupted_mid_way_is_resumed(app: App, consultation: bytes) -> None:
    deps = app.scribe_deps()
    job = scribe.submit_recording(deps, NURSE, PATIENT, consultation, "visit.wav")
    message = app.queue.receive(wait_seconds=0.1)
    assert message is not None
    # Simulate a crash after the claim: status transcribing, message never acked.
    claimed = app.stores.jobs.get(job.job_id)
    app.stores.jobs.update(claimed.model_copy(update={"status": JobStatus.TRANSCRIBING}), claimed.version)
    restarted = build_app(app.settings)  # a new process on the same data dir
    assert scribe.resume_interrupted(restarted.scribe_deps()) == 1
    app.queue.release(message)
    drain(restarted)
    assert restarted.stores.jobs.get(job.job_id).status is JobStatus.READY
    assert len([n for n in restarted.stores.notes.list_for_patient(PATIENT).items if n.job_id == job.job_id]) == 1


def test_silent_recording_fails_with_no_speech_and_no_note(app: App) -> None:
    silence = wav_bytes(np.zeros(5 * SAMPLE_RATE, dtype=np.float32))
    deps = app.scribe_deps()
    job = scribe.submit_recording(deps, NURSE, PATIENT, silence, "quiet.wav")
    before = len(app.stores.notes.list_for_patient(PATIENT).items)
    drain(app)
    failed = app.stores.jobs.get(job.job_id)
    assert failed.status is JobStatus.FAILED and "No speech detected" in (failed.error or "")
    assert len(app.stores.notes.list_for_patient(PATIENT).items) == before
    with pytest.raises(ValidationFailed, match="Only failed jobs"):
        scribe.retry_job(deps, NURSE, scribe.submit_recording(deps, NURSE, PATIENT, silence + b"\0\0", "q2.wav").job_id)
    scribe.delete_job(deps, NURSE, job.job_id)
    assert not any(j.job_id == job.job_id for j in app.stores.jobs.list_for_patient(PATIENT))


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.wav", "empty"),
        (b"this is a text file, not audio" * 20, "notes.wav", "not"),
        (b"%PDF-1.4 fake", "scan.pdf", "not an audio file"),
    ],
)
def test_bad_files_are_refused_before_anything_is_stored(app: App, data: bytes, name: str, message: str) -> None:
    blobs_before = sorted(p for p in app.settings.blob_root.rglob("*") if p.is_file())
    with pytest.raises(UnsupportedInput, match=message):
        scribe.submit_recording(app.scribe_deps(), NURSE, PATIENT, data, name)
    assert sorted(p for p in app.settings.blob_root.rglob("*") if p.is_file()) == blobs_before
    assert app.stores.jobs.list_for_patient(PATIENT) == []


def test_too_long_recording_is_refused(tmp_path: Path, whisper_model_dir: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, whisper_model=str(whisper_model_dir), max_audio_minutes=1))
    seed_demo(app.stores)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 90)
    with pytest.raises(UnsupportedInput, match="limit is 1 minutes"):
        scribe.submit_recording(app.scribe_deps(), NURSE, PATIENT, out.getvalue(), "long.wav")


def test_sign_makes_the_note_immutable_and_amendment_keeps_history(app: App, consultation: bytes) -> None:
    job = scribe.submit_recording(app.scribe_deps(), NURSE, PATIENT, consultation, "visit.wav")
    drain(app)
    note = app.stores.notes.get(PATIENT, app.stores.jobs.get(job.job_id).result_note_ts or 0)
    edited = save_draft(app.stores, NURSE, note, {**note.sections, "plan": "Review in one week."})
    with pytest.raises(Exception, match="may not sign"):
        sign_note(app.stores, NURSE, edited)
    signed = sign_note(app.stores, DOCTOR, edited)
    with pytest.raises(ValidationFailed, match="signed"):
        save_draft(app.stores, NURSE, signed, {"plan": "changed"})
    amendment = amend_note(app.stores, DOCTOR, signed)
    assert amendment.amends == signed.timestamp and amendment.status.value == "draft"
    assert app.stores.notes.get(PATIENT, signed.timestamp).sections["plan"] == "Review in one week."
