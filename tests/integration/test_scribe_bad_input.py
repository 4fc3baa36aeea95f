"""Bad input for the scribe, through the worker path: real SQLite, local blobs, PyAV and the real whisper model.

Every recording a nurse may hand in by mistake — empty, silent, noise, music, one voice, three voices, another
language, a damaged file — ends either ``failed`` with a reason that says what to do, or ``ready_for_review`` with
a warning saying what the scribe could not do. Never a crash, never a half-made note, and never a medication,
dose or diagnosis the recording did not hold.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain import audio_checks
from backend.domain.errors import UnsupportedInput
from backend.domain.models import Job, JobStatus, Note, Role
from backend.domain.speakers import RoleResult
from backend.services import scribe, scribe_pipeline
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe_pipeline import NO_SPEECH
from tests.helpers.speech import (
    SAMPLE_RATE,
    encode_audio,
    espeak_available,
    synth_samples,
    wav_bytes,
    whisper_model_dir,
)

__all__ = ["whisper_model_dir"]
pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
NURSE = Principal("nurse", Role.NURSE)
SEED = 20240611

ONE_VOICE = "I have had a headache since yesterday. It gets worse in the evening. I have not taken anything for it."
THREE_VOICES = [
    ("en-us", 160, 40, "Good morning, what brings you in today?"),
    ("en-us", 150, 70, "My knee has been hurting for a week."),
    ("en-gb", 140, 55, "She could not climb the stairs yesterday."),
    ("en-us", 160, 40, "Let me look at the knee."),
]
# A parent comes along: three voices, the parent speaking of the patient as "she".
DOCTOR_PATIENT_PARENT = [
    ("en-gb", 165, 45, "Good morning. What brings you in today?"),
    ("en-us+f3", 150, 60, "I have had a sore throat and a cough for four days."),
    ("en-us+m7", 140, 20, "She has been coughing all night and she did not go to school."),
    ("en-gb", 165, 45, "Have you had any fever? Let me look at your throat."),
    ("en-us+f3", 150, 60, "I felt hot yesterday evening but I did not check my temperature."),
    ("en-us+m7", 140, 20, "She ate very little today. Her brother had the same cold last week."),
    ("en-gb", 165, 45, "Your throat is red. Drink plenty of fluids and rest. Come back if the fever is high."),
    ("en-us+m7", 140, 20, "Thank you, we will keep her at home until she feels better."),
]
HINDI = "मुझे तीन दिन से बुखार और खांसी है। मेरे सीने में दर्द नहीं है। मैं रात को ठीक से सो नहीं पाता हूँ। मेरी माँ को भी यही परेशानी थी।"
SPANISH = (
    "Tengo fiebre y tos desde hace tres días. No tengo dolor en el pecho. Duermo mal por la noche y estoy muy cansado."
)
ENGLISH_TAIL = "Thank you, doctor."
# Said in full, but the damaged copies keep only its first part: the drug must not reach a note.
CUT_SPEECH = (
    "I have had a headache since yesterday. It gets worse in the evening. I take metformin 500 milligrams daily."
)
DOSE = re.compile(r"\d+\s*(mg|milligram|ml|tablet)", re.IGNORECASE)
# What a failed job may say: each reason names the problem and what to do.
NOT_A_CONSULTATION = (NO_SPEECH, audio_checks.NOT_SPEECH, audio_checks.LOOPING.split("{")[0])


def gap(seconds: float) -> NDArray[np.float32]:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def chords(rng: np.random.Generator, seconds: float = 6.0) -> NDArray[np.float32]:
    """Plucked four-note chords on random roots, two a second: music with no voice in it."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    out = np.zeros_like(t)
    beat = 0.5
    for i in range(int(seconds / beat)):
        root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
        inside = (t >= i * beat) & (t < (i + 1) * beat)
        tt = t[inside] - i * beat
        for ratio in (1.0, 1.26, 1.5, 2.0):
            out[inside] += np.exp(-3 * tt) * np.sin(2 * np.pi * root * ratio * tt)
    return (0.2 * out / np.max(np.abs(out))).astype(np.float32)


def sung_tone(seconds: float = 8.0) -> NDArray[np.float32]:
    """A swelling tone with vibrato: Silero VAD takes it for speech, and Whisper has heard drug names in it."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * (200 * t + 3 * np.sin(2 * np.pi * 5 * t))) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    return (0.3 * tone).astype(np.float32)


def sox_synth(*effects: str) -> bytes:
    """A 16 kHz mono WAV made by ``sox -n`` (its synth effect): noise or music with no voice in it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synth.wav"
        subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), *effects], check=True, timeout=60)
        return out.read_bytes()


def corrupt_wav(rng: np.random.Generator, good: bytes) -> bytes:
    """A WAV header over random bytes: decodes as loud hiss."""
    return good[:44] + rng.integers(0, 256, len(good) - 44, dtype=np.uint8).tobytes()


def with_garbage(rng: np.random.Generator, data: bytes) -> bytes:
    """The middle third of a compressed file overwritten with random bytes (a damaged download)."""
    third = len(data) // 3
    return data[:third] + rng.integers(0, 256, third, dtype=np.uint8).tobytes() + data[2 * third :]


@dataclass(frozen=True)
class Case:
    build: Callable[[np.random.Generator], bytes]
    filename: str = "visit.wav"
    outcome: str = "ready"  # "refused" at upload, "failed" in the worker, or "ready" for review
    says: tuple[str, ...] = ()  # the error (or one of the warnings) contains one of these
    warned: bool = True  # a ready draft must carry at least one warning
    said_drug: bool = False  # the audio names a medication: it may appear (only those the audio holds)


CASES: dict[str, Case] = {
    "empty file": Case(lambda rng: b"", outcome="refused", says=("empty",)),
    "zero-length wav": Case(lambda rng: wav_bytes(gap(0)), outcome="failed", says=("No sound could be decoded",)),
    "10 s of silence": Case(lambda rng: wav_bytes(gap(10)), outcome="failed", says=(NO_SPEECH,)),
    "10 s of low noise": Case(
        lambda rng: wav_bytes((0.01 * rng.standard_normal(10 * SAMPLE_RATE)).astype(np.float32)),
        outcome="failed",
        says=(NO_SPEECH,),
    ),
    "music-like chords": Case(lambda rng: wav_bytes(chords(rng)), outcome="failed", says=NOT_A_CONSULTATION),
    "a sung-like tone": Case(lambda rng: wav_bytes(sung_tone()), outcome="failed", says=NOT_A_CONSULTATION),
    "one voice": Case(lambda rng: wav_bytes(synth_samples(ONE_VOICE)), warned=False),
    "three voices": Case(
        lambda rng: wav_bytes(
            np.concatenate([x for v, s, p, t in THREE_VOICES for x in (synth_samples(t, v, s, p), gap(0.4))])
        ),
        warned=False,
    ),
    "doctor, patient and parent": Case(
        lambda rng: wav_bytes(
            np.concatenate([x for v, s, p, t in DOCTOR_PATIENT_PARENT for x in (synth_samples(t, v, s, p), gap(0.4))])
        ),
        says=("3 voices", "parent or companion"),
    ),
    "loud pink noise (sox)": Case(
        lambda rng: sox_synth("synth", "8", "pinknoise", "vol", "0.5"), outcome="failed", says=NOT_A_CONSULTATION
    ),
    "brown noise (sox)": Case(
        lambda rng: sox_synth("synth", "8", "brownnoise", "vol", "0.6"), outcome="failed", says=NOT_A_CONSULTATION
    ),
    "plucked chords (sox)": Case(
        lambda rng: sox_synth("synth", "1", "pluck", "C3", "pluck", "E3", "pluck", "G3", "repeat", "7", "vol", "0.5"),
        outcome="failed",
        says=NOT_A_CONSULTATION,
    ),
    "mostly Hindi": Case(
        lambda rng: wav_bytes(np.concatenate([synth_samples(HINDI, "hi"), gap(0.4), synth_samples(ENGLISH_TAIL)])),
        says=("not in English",),
    ),
    "mostly Spanish": Case(
        lambda rng: wav_bytes(np.concatenate([synth_samples(SPANISH, "es"), gap(0.4), synth_samples(ENGLISH_TAIL)])),
        says=("not in English",),
    ),
    "only Hindi": Case(
        lambda rng: wav_bytes(synth_samples(HINDI, "hi")), outcome="failed", says=("No English speech",)
    ),
    "truncated wav": Case(
        lambda rng: (lambda b: b[: len(b) // 3])(wav_bytes(synth_samples(CUT_SPEECH))), says=("cut off",)
    ),
    "wav header over random bytes": Case(
        lambda rng: corrupt_wav(rng, wav_bytes(synth_samples(CUT_SPEECH))), outcome="failed", says=(NO_SPEECH,)
    ),
    "webm cut off after 200 bytes": Case(
        lambda rng: encode_audio(synth_samples(CUT_SPEECH), "webm", "libopus", 48000)[:200],
        filename="visit.webm",
        outcome="refused",
        says=("damaged or incomplete",),
    ),
    "mp3 with a damaged middle": Case(
        lambda rng: with_garbage(rng, encode_audio(synth_samples(CUT_SPEECH), "mp3", "libmp3lame", 44100)),
        filename="visit.mp3",
        says=("cut off", "damaged"),
        said_drug=True,
    ),
}


@dataclass
class RoleSpy:
    """Records what the real ``assign_roles`` returned, to follow its warnings into the draft."""

    results: list[RoleResult] = field(default_factory=list)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, whisper_model_dir: Path) -> App:
    return build_app(Settings(data_dir=tmp_path_factory.mktemp("bad-input"), whisper_model=str(whisper_model_dir)))


@pytest.fixture
def roles(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoleSpy]:
    spy = RoleSpy()
    real = scribe_pipeline.assign_roles

    def spying(samples: Any, segments: Any) -> RoleResult:
        result = real(samples, segments)
        spy.results.append(result)
        return result

    monkeypatch.setattr(scribe_pipeline, "assign_roles", spying)
    yield spy


def blob_files(app: App) -> list[Path]:
    return sorted(p for p in app.settings.blob_root.rglob("*") if p.is_file())


def note_text(note: Note) -> str:
    return " ".join([*note.sections.values(), *(s.text for s in note.transcript)])


def check_invents_nothing(note: Note, case: Case) -> None:
    """Medications, doses and diagnoses in the note must come from words the transcript holds."""
    heard = " ".join(s.text for s in note.transcript).lower()
    if not case.said_drug:
        assert note.medications == [], note.medications
        assert not DOSE.search(" ".join(note.sections.values())), note.sections
    for med in note.medications:
        assert med.name.lower() in heard or (med.heard_as or "").lower() in heard, med
    assert not note.diagnoses, note.diagnoses


def submit_and_process(app: App, pid: str, data: bytes, filename: str) -> Job:
    deps = app.scribe_deps()
    job = scribe.submit_recording(deps, NURSE, pid, data, filename)
    scribe.process_job(deps, job.job_id)  # the worker's handler: must not raise for any of these inputs
    return app.stores.jobs.get(job.job_id)


NEEDS_SOX = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (make test installs it)")


@pytest.mark.parametrize("name", [pytest.param(n, marks=[NEEDS_SOX] if "(sox)" in n else []) for n in CASES])
def test_bad_input_fails_clearly_or_warns(app: App, roles: RoleSpy, name: str) -> None:
    case = CASES[name]
    data = case.build(np.random.default_rng(SEED))
    pid = register_patient(app.stores, NURSE, PatientInput(name=f"Bad Input {name}")).patient.patient_id

    if case.outcome == "refused":
        before = blob_files(app)
        with pytest.raises(UnsupportedInput) as refused:
            scribe.submit_recording(app.scribe_deps(), NURSE, pid, data, case.filename)
        assert any(s in refused.value.message for s in case.says), refused.value.message
        assert blob_files(app) == before and app.stores.jobs.list_for_patient(pid) == []
        return

    job = submit_and_process(app, pid, data, case.filename)
    notes = app.stores.notes.list_for_patient(pid).items
    if case.outcome == "failed":
        assert job.status is JobStatus.FAILED, (job.status, job.error, [note_text(n) for n in notes])
        assert any(s in (job.error or "") for s in case.says), job.error
        assert "Traceback" not in (job.error or "") and job.result_note_ts is None
        assert notes == []  # nothing half-written
        assert app.blobs.get(job.blob_key) == data  # kept: the job can be retried or deleted
        return

    assert job.status is JobStatus.READY, job.error
    [note] = notes
    warnings = note.provenance.audio_warnings
    if case.says:
        assert any(s in w for w in warnings for s in case.says), warnings
    if case.warned:
        assert warnings, "a draft of bad input must say what could not be done"
    check_invents_nothing(note, case)
    # The role warnings (one voice, three voices, uncertain roles) reach the draft as they were made.
    assert roles.results, "assign_roles was not called on the worker path"
    assert set(roles.results[-1].warnings) <= set(warnings), (roles.results[-1].warnings, warnings)


def test_a_failed_recording_not_in_english_can_be_retried_and_fails_the_same_way(app: App) -> None:
    """The audio stays stored for a retry; a retry of the same recording gives the same clear reason."""
    deps = app.scribe_deps()
    pid = register_patient(app.stores, NURSE, PatientInput(name="Hindi Retry")).patient.patient_id
    job = submit_and_process(app, pid, wav_bytes(synth_samples(HINDI, "hi")), "hindi.wav")
    assert job.status is JobStatus.FAILED and "No English speech" in (job.error or "")
    scribe.retry_job(deps, NURSE, job.job_id)
    scribe.process_job(deps, job.job_id)
    again = app.stores.jobs.get(job.job_id)
    assert again.status is JobStatus.FAILED and again.error == job.error
    assert app.stores.notes.list_for_patient(pid).items == []


@pytest.mark.parametrize(
    ("voice", "pitch"), [("en-us", 20), ("en-gb", 50), ("hi", 50), ("en-us+f3", 99), ("en-us+f5", 99)]
)
def test_voices_low_and_high_are_not_taken_for_music(voice: str, pitch: int) -> None:
    speech = synth_samples(CUT_SPEECH + " Ooh, it really hurts.", voice, 150, pitch)
    assert audio_checks.sound_warnings(speech, []) == []
