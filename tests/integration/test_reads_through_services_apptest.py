"""The pages read and sign through the services (AppTest over the real pages, SQLite store): replaying a recording,
opening a digitized document and signing with the last edits each leave their audit line."""

from __future__ import annotations

import io

from PIL import Image
from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role, Segment
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("reads-apptest", users={"doctor": Role.DOCTOR})


def _page(patient_id: str, page: str) -> AppTest:
    return open_page(page, Principal("doctor", Role.DOCTOR), patient_id)


def _actions(app: App, patient_id: str) -> list[str]:
    return [e.action for e in reversed(app.stores.audit.query(patient_id=patient_id, limit=200).items)]


def _recorded_draft(app: App, patient_id: str) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Read Test"))
    audio = app.blobs.put(b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav", prefix="audio")
    return app.stores.notes.add(
        Note(
            patient_id=patient_id,
            author="nurse",
            transcript=[Segment(id=0, start=0.0, end=3.0, text="I have a cough.", speaker="patient")],
            sections={"subjective": "Cough.", "plan": ""},
            medications=[Medication(name="paracetamol", strength="500 mg", verified=True)],
            audio_key=audio,
        )
    )


def test_review_replays_the_recording_and_signs_the_edits_in_one_call(app: App) -> None:
    note = _recorded_draft(app, "PAT_0000b001")
    key = f"scribe_review_{note.timestamp}"
    at = _page(note.patient_id, "scribe")
    assert at.get("audio"), "the recording is offered for replay"
    assert "note.audio_play" in _actions(app, note.patient_id)

    at.text_area(key=f"{key}_plan").set_value("Rest and fluids.").run()
    at.button(key=f"{key}_sign").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert stored.status is NoteStatus.SIGNED and stored.signer == "doctor"
    assert stored.sections["plan"] == "Rest and fluids."  # what was on screen is what was signed
    assert [m.name for m in stored.medications] == ["paracetamol"]
    assert stored.version == note.version + 1  # saved and signed in one write
    actions = _actions(app, note.patient_id)
    assert actions.count("note.sign") == 1 and actions[actions.index("note.sign") - 1] == "note.edit"


def test_a_deleted_recording_says_why_it_cannot_play(app: App) -> None:
    note = _recorded_draft(app, "PAT_0000b002")
    assert note.audio_key
    app.blobs.delete(note.audio_key)
    at = _page(note.patient_id, "scribe")
    assert not at.get("audio")
    assert any("audio retention policy" in i.value for i in at.info)


def test_timeline_opens_a_document_and_its_original_through_the_services(app: App) -> None:
    pid = "PAT_0000b003"
    app.stores.patients.add(Patient(patient_id=pid, name="Document Test"))
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, format="PNG")
    key = app.blobs.put(png.getvalue(), "image/png", prefix="documents")
    entry = app.stores.history.add(
        HistoryEntry(
            patient_id=pid,
            source="digitize:image",
            medications=[Medication(name="metformin", verbatim="Glycomet 500", strength="500 mg", verified=True)],
            document_key=key,
            document_mime="image/png",
        )
    )
    at = _page(pid, "timeline")
    downloads = [d for d in at.get("download_button") if d.proto.id and f"timeline_doc_{entry.timestamp}" in d.proto.id]
    assert downloads, "the original is offered"
    assert any("metformin" in str(df.value) for df in at.dataframe)
    actions = _actions(app, pid)
    assert "history.read" in actions and "document.open" in actions
