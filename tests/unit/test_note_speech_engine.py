"""The speech engine that transcribed a note is kept on the note when it is made, and told in one sentence.

Made on fakes through the real scribe job (and the real cloud-first wrapper for the hand-over), so the field is
what the worker writes, not what a test builds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio.decode import encode_wav
from backend.adapters.fallback import FallbackTranscriber
from backend.domain.drafting import draft_note
from backend.domain.errors import ProviderUnavailable
from backend.domain.limits import Limits
from backend.domain.models import Note, NoteStatus, Patient, Role, Segment, SpeechEngine
from backend.domain.speech_words import needs_attention, speech_sentence
from backend.formats.fhir_r4 import build_bundle
from backend.ports import Transcriber
from backend.services import scribe
from backend.services.access import Principal
from backend.services.scribe import ScribeDeps
from tests.fakes.audio import FakeCodec
from tests.fakes.blobs import FakeBlobs
from tests.fakes.clock import FakeClock
from tests.fakes.queue import FakeQueue
from tests.fakes.records import fake_record_store
from tests.fakes.speech import ScriptedTranscriber
from tests.helpers.speech import tone_bursts

NURSE = Principal("nurse", Role.NURSE)
PATIENT = "PAT_0000c0de"
SCRIPT = [
    (0.0, 2.5, "Good morning, what brings you in today?", "clinician"),
    (2.5, 5.5, "I have had a cough for three days.", "patient"),
]
WHISPER = "whisper-faster-whisper-base"


class CloudDown:
    """A cloud speech engine whose every call is refused, as a quota does."""

    name, low_accuracy = "aws-transcribe-medical", False

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        raise ProviderUnavailable("quota exceeded")


def _note_made_by(transcriber: Transcriber) -> Note:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PATIENT, name="Cough Patient"))
    queue = FakeQueue(FakeClock())
    deps = ScribeDeps(
        stores=stores,
        blobs=FakeBlobs(),  # type: ignore[arg-type]
        queue=queue,
        codec=FakeCodec(),
        transcriber=lambda: transcriber,
        draft=draft_note,
        limits=Limits(max_audio_seconds=120, max_audio_bytes=10 * 1024 * 1024),
    )
    job = scribe.submit_recording(deps, NURSE, PATIENT, encode_wav(tone_bursts(6.0)), "visit.wav")
    scribe.process_job(deps, job.job_id)
    (note,) = stores.notes.list_for_patient(PATIENT).items
    return note


def test_an_offline_engine_standing_in_for_the_cloud_one_is_kept_with_its_reason() -> None:
    note = _note_made_by(FallbackTranscriber(CloudDown(), ScriptedTranscriber(SCRIPT, name=WHISPER)))
    assert note.speech == SpeechEngine(engine=WHISPER, stood_in_for="aws-transcribe-medical", reason="quota exceeded")
    assert speech_sentence(note.speech) == (
        "Transcribed on this computer by Whisper base, standing in for Amazon Transcribe Medical (AWS) "
        "(unavailable: quota exceeded)."
    )
    assert needs_attention(note.speech)


def test_the_configured_cloud_engine_that_served_is_kept_without_a_stand_in() -> None:
    cloud = ScriptedTranscriber(SCRIPT, name="aws-transcribe")
    note = _note_made_by(FallbackTranscriber(cloud, ScriptedTranscriber(SCRIPT, name=WHISPER)))
    assert note.speech == SpeechEngine(engine="aws-transcribe")
    assert speech_sentence(note.speech) == "Transcribed by Amazon Transcribe (AWS)."
    assert not needs_attention(note.speech)


def test_the_offline_engine_alone_and_the_low_accuracy_backup() -> None:
    assert _note_made_by(ScriptedTranscriber(SCRIPT, name=WHISPER)).speech == SpeechEngine(engine=WHISPER)
    backup = _note_made_by(ScriptedTranscriber(SCRIPT, name="pocketsphinx", low_accuracy=True)).speech
    assert backup == SpeechEngine(engine="pocketsphinx", low_accuracy=True)
    assert speech_sentence(backup) == (
        "Transcribed on this computer by the basic backup recogniser (pocketsphinx). "
        "It is the low-accuracy backup: check every word against the audio."
    )
    assert needs_attention(backup)


def test_a_note_stored_before_the_engine_was_kept_still_loads_without_one() -> None:
    old = Note(patient_id=PATIENT).model_dump(mode="json")
    del old["speech"]
    assert Note.model_validate(old).speech is None


def test_the_fhir_export_says_what_transcribed_each_note_it_kept_that_of() -> None:
    patient = Patient(patient_id=PATIENT, name="Cough Patient")
    signed = {"status": NoteStatus.SIGNED, "signer": "doctor", "signed_at": 3_000}
    stood_in = SpeechEngine(engine=WHISPER, stood_in_for="aws-transcribe-medical", reason="quota exceeded")
    notes = [
        Note(patient_id=PATIENT, timestamp=2_000, speech=stood_in, **signed),  # type: ignore[arg-type]
        Note(patient_id=PATIENT, timestamp=1_000, **signed),  # type: ignore[arg-type]
    ]
    bundle = build_bundle(patient, notes, [], [], 4_000)
    documents = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    by_note = {d["identifier"][0]["value"]: d.get("description") for d in documents}
    assert by_note == {f"{PATIENT}/2000": speech_sentence(stood_in), f"{PATIENT}/1000": None}
