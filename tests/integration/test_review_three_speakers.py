"""Three speakers on the review screen: one click swaps patient and other speaker (a parent taken for the patient)
and redoes the draft, keeping a clinician's code decision (AppTest over the real Scribe page, SQLite, offline
drafter)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.drafting import draft_note
from backend.domain.models import Note, Patient, Role, Segment
from backend.domain.note_content import CodeChoice
from backend.services.access import Principal
from backend.services.scribe_pipeline import draft_transcript
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("review-three-speakers", users={"nurse": Role.NURSE})
# The child is the patient; the parent's turns came out as the patient's and the child's as a third speaker's.
TURNS = [
    ("clinician", "Good morning, what brings you in today?"),
    ("other", "I have had a sore throat and a cough for four days."),
    ("patient", "She has been coughing all night and she did not go to school."),
    ("clinician", "I think this is a viral pharyngitis. Drink plenty of fluids and rest."),
]


def add_note(app: App, pid: str, turns: list[tuple[str, str]]) -> Note:
    app.stores.patients.add(Patient(patient_id=pid, name="Three Voices"))
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(turns)
    ]
    content = draft_transcript(segments, draft_note).content
    return app.stores.notes.add(Note(patient_id=pid, author="nurse").with_content(content, transcript=segments))


def review(pid: str) -> AppTest:
    return open_page("scribe", Principal("nurse", Role.NURSE), pid)


def test_swap_patient_and_other_redoes_the_draft_in_one_click(app: App) -> None:
    note = add_note(app, "PAT_0000a301", TURNS)
    # A doctor already decided the code of the draft's diagnosis: the redraft must keep that decision.
    assert note.diagnoses, "the offline drafter names the stated diagnosis"
    choice = CodeChoice(code="J02.9", by="doctor", at=1)
    decided = [d.model_copy(update={"icd10": choice}) for d in note.diagnoses]
    note = app.stores.notes.update(note.model_copy(update={"diagnoses": decided}), note.version)
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    assert "The patient has had a sore throat" not in note.sections["subjective"]
    at.button(key=f"{key}_swap_patient_other").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert [s.speaker for s in stored.transcript] == ["clinician", "patient", "other", "clinician"]
    assert [s.role_source for s in stored.transcript] == ["voice", "clinician", "clinician", "voice"]
    assert "The patient has had a sore throat and a cough for 4 days" in stored.sections["subjective"]
    assert at.text_area(key=f"{key}_subjective").value == stored.sections["subjective"]  # the screen shows it
    assert any("Roles changed on 2 turns" in s.value for s in at.success)
    assert [d.icd10 for d in stored.diagnoses if d.text.lower() == decided[0].text.lower()] == [choice]


def test_swap_clinician_and_other(app: App) -> None:
    note = add_note(app, "PAT_0000a302", TURNS)
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    at.button(key=f"{key}_swap_clinician_other").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert [s.speaker for s in stored.transcript] == ["other", "clinician", "patient", "other"]


def test_two_speakers_are_offered_only_the_clinician_patient_swap(app: App) -> None:
    note = add_note(app, "PAT_0000a303", [(r, t) for r, t in TURNS if r != "other"])
    key = f"scribe_review_{note.timestamp}"
    swaps = [b.label for b in review(note.patient_id).button if str(b.key).startswith(f"{key}_swap")]
    assert swaps == ["Swap clinician and patient"]
