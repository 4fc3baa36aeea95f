"""Review and timeline tell what transcribed a note from the note's own field (AppTest over the real pages)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import Note, NoteStatus, Patient, Role, Segment, SpeechEngine
from backend.domain.note_content import Provenance
from backend.domain.speech_words import speech_sentence
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page
from ui.safe import md_escape

app = app_fixture("note-speech", users={"nurse": Role.NURSE, "doctor": Role.DOCTOR})
STOOD_IN = SpeechEngine(
    engine="whisper-faster-whisper-base", stood_in_for="aws-transcribe-medical", reason="quota exceeded"
)
# The banner the note also keeps in its provenance: with the field, it is not told a second time.
BANNER = (
    "Transcribed by the offline engine (whisper-faster-whisper-base) because aws-transcribe-medical is unavailable: "
    "quota exceeded"
)
SEGMENTS = [Segment(id=0, start=0.0, end=3.0, text="I have had a cough for three days.", speaker="patient")]


def _add(app: App, patient_id: str, speech: SpeechEngine | None, **fields: object) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Speech Test"))
    note = Note(
        patient_id=patient_id,
        author="nurse",
        transcript=SEGMENTS,
        sections={"subjective": "Cough for three days.", "objective": "", "assessment": "", "plan": ""},
        provenance=Provenance(engine_fallback=BANNER),
        speech=speech,
        **fields,  # type: ignore[arg-type]
    )
    return app.stores.notes.add(note)


def test_review_warns_of_the_stand_in_once_from_the_field(app: App) -> None:
    note = _add(app, "PAT_0000d001", STOOD_IN)
    at = open_page("scribe", Principal("nurse", Role.NURSE), note.patient_id)
    warnings = [w.value for w in at.warning]
    assert md_escape(speech_sentence(STOOD_IN)) in warnings
    assert not any("Transcribed offline on this computer" in w for w in warnings)  # the banner's retelling


def test_the_configured_engine_is_a_caption_and_the_timeline_names_it_on_the_note(app: App) -> None:
    whisper = SpeechEngine(engine="whisper-faster-whisper-base")
    note = _add(app, "PAT_0000d002", whisper, status=NoteStatus.SIGNED, signer="doctor", signed_at=1)
    note = app.stores.notes.get(note.patient_id, note.timestamp)
    at = open_page("timeline", Principal("doctor", Role.DOCTOR), note.patient_id)
    line = f":material/mic: {md_escape('Transcribed on this computer by Whisper base.')}"
    assert [c.value for c in at.caption].count(line) == 1  # on the note's line of the timeline
    at.toggle(key=f"timeline_open_{note.timestamp}").set_value(True).run()
    assert not at.exception, at.exception
    assert [c.value for c in at.caption].count(line) == 2  # and on the opened note's review
    assert not [w.value for w in at.warning if "Whisper" in w.value]


def test_an_older_note_without_the_field_keeps_the_banner_words(app: App) -> None:
    note = _add(app, "PAT_0000d003", None)
    at = open_page("scribe", Principal("nurse", Role.NURSE), note.patient_id)
    warnings = [w.value for w in at.warning]
    assert any(w.startswith(md_escape("Transcribed offline on this computer by Whisper base")) for w in warnings)
