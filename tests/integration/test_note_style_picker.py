"""The review screen's note-style picker re-renders the draft in the chosen style and stores it
(AppTest over the real Scribe page, SQLite store, offline drafter)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from backend.bootstrap import App, build_app, draft_parts
from backend.config import Settings
from backend.domain.models import Note, Patient, Role, Segment
from backend.services import auth
from backend.services.access import Principal
from backend.services.scribe_pipeline import draft_transcript
from tests.conftest import ROOT

TURNS = [
    ("clinician", "Good morning, what brings you in today?"),
    ("patient", "I have had a cough for three days and a sore throat."),
    ("clinician", "On exam your lungs are clear and your throat is red."),
    ("clinician", "I think you have a viral pharyngitis."),
    ("clinician", "Come back in two weeks if it is not better."),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    mp = pytest.MonkeyPatch()
    mp.setenv("COPILOT_DATA_DIR", str(tmp_path_factory.mktemp("note-style")))
    mp.setenv("COPILOT_DEMO", "0")
    mp.setenv("COPILOT_LLM", "offline")
    mp.chdir(ROOT)
    import streamlit as st

    st.cache_resource.clear()
    app = build_app(Settings())
    auth.add_user(app.stores, "nurse", "nurse-password", Role.NURSE)
    yield app
    st.cache_resource.clear()
    mp.undo()


def add_note(app: App, patient_id: str) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Style Test"))
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(TURNS)
    ]
    result = draft_transcript(segments, draft_parts)
    return app.stores.notes.add(
        Note(patient_id=patient_id, author="nurse", transcript=result.segments, sections=result.sections,
             fields=result.fields, medications=result.medications)
    )  # fmt: skip


def test_picking_the_brief_style_rerenders_and_stores_it(app: App) -> None:
    note = add_note(app, "PAT_0000b001")
    key = f"scribe_review_{note.timestamp}"
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = Principal("nurse", Role.NURSE)
    at.session_state["selected_patient_id"] = note.patient_id
    at.run()
    at.switch_page("pages/scribe.py").run()
    assert not at.exception, at.exception
    at.selectbox(key=f"{key}_style").set_value("brief").run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert stored.fields["style"] == "brief"
    assert stored.fields["sentences"] == note.fields["sentences"]  # the same draft and evidence
    assert stored.sections["subjective"].startswith("Presenting complaint:")
    assert at.text_area(key=f"{key}_subjective").value == stored.sections["subjective"]
