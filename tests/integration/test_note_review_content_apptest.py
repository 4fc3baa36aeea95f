"""The review screen reads the typed note content: provenance warnings, the vital-sign checks and the evidence of
each sentence and fact (AppTest over the real Scribe page, SQLite store, offline drafter)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.drafting import draft_note
from backend.domain.models import Note, Patient, Role, Segment
from backend.domain.note_content import Provenance
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page
from ui.safe import md_escape

app = app_fixture("note-review-content", users={"nurse": Role.NURSE})
TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days, no fever."),
    ("clinician", "Your blood pressure is one forty over ninety and your heart rate is three hundred."),
    ("clinician", "Come back in two weeks."),
]
FALLBACK = "Transcribed by the offline engine (whisper) because transcribe is unavailable: quota exceeded"
REMOVED = "Medication “warfarin 5 mg”: not found in the recording"


def add_note(app: App, patient_id: str) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Content Test"))
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(TURNS)
    ]
    content = draft_note(segments)
    provenance = Provenance(
        engine_fallback=FALLBACK,
        low_accuracy_engine="sphinx",
        audio_warnings=["Only one voice was heard."],
        unsupported=[REMOVED],
    )
    note = Note(patient_id=patient_id, author="nurse", transcript=segments)
    return app.stores.notes.add(note.with_content(content.model_copy(update={"provenance": provenance})))


def review(patient_id: str) -> AppTest:
    return open_page("scribe", Principal("nurse", Role.NURSE), patient_id)


def test_the_provenance_is_told_before_the_note(app: App) -> None:
    note = add_note(app, "PAT_0000c001")
    at = review(note.patient_id)
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    # What really ran, in words: the stand-in engine, the one configured, and why
    assert (
        md_escape(
            "Transcribed offline on this computer by Whisper because Amazon Transcribe (AWS) was unavailable: "
            "quota exceeded."
        )
        in warnings
    )
    assert any(w.startswith(md_escape("Transcribed on this computer by the basic backup recogniser")) for w in warnings)
    assert any("check every word against the audio" in w for w in warnings)
    assert md_escape("Only one voice was heard.") in warnings
    assert any(
        w.startswith("Not found in the recording (removed from the draft):") and "warfarin" in w for w in warnings
    )


def test_vitals_show_their_check_and_every_item_offers_its_evidence(app: App) -> None:
    note = add_note(app, "PAT_0000c002")
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    (table,) = [d.value for d in at.dataframe if "vital" in d.value.columns]
    rows = {r["vital"]: r for r in table.to_dict("records")}
    bp, hr = rows["Blood pressure"], rows["Heart rate"]  # named as a clinician says them
    assert (bp["value"], bp["unit"], bp["reading"]) == ("140/90", "mmHg", "plausible")
    assert hr["reading"].startswith("check: ") and "outside the plausible range" in hr["reading"]
    options = at.selectbox(key=f"{key}_evidence").options
    assert "chief complaint: cough" in options and "follow up: in 2 weeks" in options
    assert "vital: Blood pressure 140/90 mmHg" in options  # named as on the vitals table, not "bp"
    assert options[0] == "(nothing highlighted)"
    assert any(o.startswith("subjective: ") for o in options)
    # Choosing an item highlights the transcript turns it came from.
    assert not any(":orange-background[" in m.value for m in at.markdown)
    at.selectbox(key=f"{key}_evidence").set_value("follow up: in 2 weeks").run()
    assert any(":orange-background[" in m.value and "Come back in two weeks" in m.value for m in at.markdown)
