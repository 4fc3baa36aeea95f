"""The review screen's ICD-10 codes: each diagnosis shows its suggested code and title; the clinician confirms it,
picks another (searched by words or by code) or says no code fits; the choice is stored with the draft and shown as
confirmed; signing with unconfirmed codes is allowed and says so (AppTest over the real Scribe page, SQLite store)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import Note, NoteStatus, Patient, Role
from backend.domain.note_content import Diagnosis
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("diagnosis-codes", users={"doctor": Role.DOCTOR, "nurse": Role.NURSE})
DOCTOR = Principal("doctor", Role.DOCTOR)


def add_note(app: App, patient_id: str, status: NoteStatus = NoteStatus.DRAFT) -> Note:
    app.stores.patients.add(Patient(patient_id=patient_id, name="Code Test"))
    note = Note(
        patient_id=patient_id,
        author="doctor",
        status=status,
        signer="doctor" if status is NoteStatus.SIGNED else None,
        sections={"subjective": "Headache.", "objective": "", "assessment": "Hypertension; asthma.", "plan": ""},
        diagnoses=[Diagnosis(text="Hypertension"), Diagnosis(text="Asthma"), Diagnosis(text="Right testicular nodule")],
    )
    return app.stores.notes.add(note)


def stored(app: App, note: Note) -> Note:
    return app.stores.notes.get(note.patient_id, note.timestamp)


def row_of(at: AppTest, text: str) -> str:
    (row,) = [m.value for m in at.markdown if m.value.startswith(f"**{text}**")]
    return row


def test_suggested_codes_are_shown_with_their_titles_and_confirmed_on_request(app: App) -> None:
    note = add_note(app, "PAT_0000d001")
    key = f"scribe_review_{note.timestamp}"
    at = open_page("scribe", DOCTOR, note.patient_id)
    assert not at.exception, at.exception
    assert "`I10` Essential \\(primary\\) hypertension" in row_of(at, "Hypertension")
    assert "suggested from the words — not confirmed" in row_of(at, "Hypertension")
    assert "no code suggested" in row_of(at, "Right testicular nodule")  # no guess
    assert any("2 ICD-10 codes above are suggestions" in i.value for i in at.info)

    at.button(key=f"{key}_dx_0_confirm").click().run()
    assert not at.exception, at.exception
    assert "confirmed by doctor" in row_of(at, "Hypertension")
    choice = stored(app, note).diagnoses[0].icd10
    assert choice is not None and (choice.code, choice.by) == ("I10", "doctor")
    assert stored(app, note).diagnoses[1].icd10 is None  # the others are untouched
    assert any("1 ICD-10 code above is a suggestion" in i.value for i in at.info)


def test_another_code_is_found_by_words_or_by_code_and_no_code_is_a_choice(app: App) -> None:
    note = add_note(app, "PAT_0000d002")
    key = f"scribe_review_{note.timestamp}"
    at = open_page("scribe", DOCTOR, note.patient_id)
    at.text_input(key=f"{key}_dx_1_search").set_value("allergic asthma").run()
    assert at.selectbox(key=f"{key}_dx_1_pick").options[0] == "J45.0 — Predominantly allergic asthma"
    at.button(key=f"{key}_dx_1_use").click().run()
    assert not at.exception, at.exception
    assert stored(app, note).diagnoses[1].icd10.code == "J45.0"  # type: ignore[union-attr]
    assert "`J45.0` Predominantly allergic asthma" in row_of(at, "Asthma")

    at.text_input(key=f"{key}_dx_0_search").set_value("i15.0").run()  # a code, in any case
    assert at.selectbox(key=f"{key}_dx_0_pick").value == "I15.0 — Renovascular hypertension"
    at.text_input(key=f"{key}_dx_0_search").set_value("zzzq").run()
    assert any("No ICD-10 code matches" in c.value for c in at.caption)

    at.button(key=f"{key}_dx_2_none").click().run()
    assert stored(app, note).diagnoses[2].icd10.code is None  # type: ignore[union-attr]
    assert "no code — decided by doctor" in row_of(at, "Right testicular nodule")


def test_signing_with_unconfirmed_codes_is_allowed_and_says_so(app: App) -> None:
    note = add_note(app, "PAT_0000d003")
    key = f"scribe_review_{note.timestamp}"
    at = open_page("scribe", DOCTOR, note.patient_id)
    at.button(key=f"{key}_sign").click().run()
    assert not at.exception, at.exception
    assert stored(app, note).status is NoteStatus.SIGNED
    assert any("2 ICD-10 codes remain unconfirmed suggestions" in s.value for s in at.success)
    # A signed note shows its codes but offers no way to change them.
    assert "suggested from the words" in row_of(at, "Hypertension")
    assert not [b for b in at.button if b.key and b.key.startswith(f"{key}_dx_")]
    assert not [t for t in at.text_input if t.key and t.key.startswith(f"{key}_dx_")]


def test_a_nurse_codes_a_draft_and_is_told_that_a_doctor_signs(app: App) -> None:
    note = add_note(app, "PAT_0000d004")
    key = f"scribe_review_{note.timestamp}"
    at = open_page("scribe", Principal("nurse", Role.NURSE), note.patient_id)
    assert not at.exception, at.exception
    assert any("A doctor signs this note" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == f"{key}_sign"]
    assert not any("suggestions nobody has confirmed" in i.value for i in at.info)  # that is the signer's notice
    at.button(key=f"{key}_dx_1_confirm").click().run()
    assert stored(app, note).diagnoses[1].icd10.by == "nurse"  # type: ignore[union-attr]
