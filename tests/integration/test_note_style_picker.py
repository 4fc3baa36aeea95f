"""The review screen's note-style picker re-renders the draft in the chosen style and stores it
(AppTest over the real Scribe page, SQLite store, offline drafter)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.drafting import draft_note
from backend.domain.models import Note, Patient, Role, Segment
from backend.services.access import Principal
from backend.services.scribe_pipeline import draft_transcript
from tests.helpers.apptest import app_fixture, open_page

TURNS = [
    ("clinician", "Good morning, what brings you in today?"),
    ("patient", "I have had a cough for three days and a sore throat."),
    ("clinician", "On exam your lungs are clear and your throat is red."),
    ("clinician", "I think you have a viral pharyngitis."),
    ("clinician", "Come back in two weeks if it is not better."),
]


app = app_fixture("note-style", users={"nurse": Role.NURSE})


def add_note(app: App, patient_id: str) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Style Test"))
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(TURNS)
    ]
    result = draft_transcript(segments, draft_note)
    return app.stores.notes.add(
        Note(patient_id=patient_id, author="nurse").with_content(result.content, transcript=result.segments)
    )


def test_picking_the_brief_style_rerenders_and_stores_it(app: App) -> None:
    note = add_note(app, "PAT_0000b001")
    key = f"scribe_review_{note.timestamp}"
    at = open_page("scribe", Principal("nurse", Role.NURSE), note.patient_id)
    at.selectbox(key=f"{key}_style").set_value("brief").run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert stored.style == "brief"
    assert stored.sentences == note.sentences  # the same draft and evidence
    assert stored.sections["subjective"].startswith("Presenting complaint:")
    assert at.text_area(key=f"{key}_subjective").value == stored.sections["subjective"]
