"""The review screen shows who said what and lets the clinician fix roles and confirm recovered drug names
(AppTest over the real Scribe page, SQLite store, offline drafter)."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.drafting import draft_note
from backend.domain.models import Evidence, Medication, Note, Patient, Role, Segment
from backend.domain.note_content import RecoveredName
from backend.services.access import Principal
from backend.services.scribe_pipeline import draft_transcript
from tests.helpers.apptest import app_fixture, open_page

HEARD = "list in April"
# Spoken by the patient, but the roles came out the wrong way round.
TURNS = [
    ("patient", "Good morning, what brings you in today?"),
    ("clinician", "I have had a headache for three days and I feel dizzy."),
    ("patient", "Are you taking any medicines?"),
    ("clinician", f"Yes, I take {HEARD} ten milligrams once a day for my blood pressure."),
]


app = app_fixture("review-roles", users={"nurse": Role.NURSE})


def add_note(app: App, patient_id: str) -> Note:
    """A draft as the pipeline makes it from ``TURNS``, with lisinopril recovered from what was heard."""
    app.stores.patients.add(Patient(patient_id=patient_id, name="Role Test"))
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(TURNS)
    ]
    result = draft_transcript(segments, draft_note)
    lisinopril = Medication(
        name="lisinopril",
        verbatim=HEARD,
        strength="10 mg",
        found_by="sounds_like",
        heard_as=HEARD,
        flags=[f"name recovered from speech heard as “{HEARD}”: confirm"],
        evidence=Evidence(segment_ids=[3]),
    )
    recovered = [RecoveredName(segment_id=3, heard=HEARD, drug="lisinopril", score=0.9)]
    content = result.content.model_copy(
        update={
            "medications": [lisinopril],
            "provenance": result.content.provenance.model_copy(update={"recovered_names": recovered}),
        }
    )
    return app.stores.notes.add(
        Note(patient_id=patient_id, author="nurse").with_content(content, transcript=result.segments)
    )


def review(patient_id: str) -> AppTest:
    return open_page("scribe", Principal("nurse", Role.NURSE), patient_id)


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def speakers(at: AppTest) -> list[tuple[str, str]]:
    """(role, how it was found) of each block of the conversation, in order."""
    return re.findall(r"\*\*(Clinician|Patient|Other speaker)\*\*\] :gray\[· ([^\]]+)\]", markdown(at))


def test_transcript_shows_roles_how_found_and_what_was_heard(app: App) -> None:
    note = add_note(app, "PAT_0000a001")
    at = review(note.patient_id)
    assert speakers(at) == [("Patient", "by voice"), ("Clinician", "by voice")] * 2
    text = markdown(at)
    assert "**:violet[list in April]** :violet[→ lisinopril?]" in text  # the heard words, marked
    assert any("recovered from misheard speech" in w.value for w in at.warning)


def test_swap_redoes_the_draft_from_the_relabelled_transcript(app: App) -> None:
    note = add_note(app, "PAT_0000a002")
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    assert "The patient has had a headache" not in at.text_area(key=f"{key}_subjective").value
    at.button(key=f"{key}_swap").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert [s.speaker for s in stored.transcript] == ["clinician", "patient", "clinician", "patient"]
    assert {s.role_source for s in stored.transcript} == {"clinician"}
    assert "The patient has had a headache for 3 days" in stored.sections["subjective"]
    assert at.text_area(key=f"{key}_subjective").value == stored.sections["subjective"]  # the screen shows it
    assert any("Roles changed on 4 turns" in s.value for s in at.success)
    assert speakers(at) == [("Clinician", "set by clinician"), ("Patient", "set by clinician")] * 2
    assert "note.relabel" in [e.action for e in app.stores.audit.query(patient_id=note.patient_id).items]


def test_an_edited_draft_is_redone_only_after_the_clinician_agrees(app: App) -> None:
    note = add_note(app, "PAT_0000a003")
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    at.text_area(key=f"{key}_plan").set_value("Typed by the nurse.").run()
    at.button(key=f"{key}_swap").click().run()
    assert any("your edits are lost" in w.value for w in at.warning)
    assert app.stores.notes.get(note.patient_id, note.timestamp).version == note.version  # nothing saved yet
    at.button(key=f"{key}_relabel_no").click().run()
    assert at.text_area(key=f"{key}_plan").value == "Typed by the nurse."
    at.button(key=f"{key}_swap").click().run()
    at.button(key=f"{key}_relabel_yes").click().run()
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert stored.transcript[1].speaker == "patient"
    assert at.text_area(key=f"{key}_plan").value == stored.sections["plan"] != "Typed by the nurse."


def test_single_turn_role_is_fixed(app: App) -> None:
    note = add_note(app, "PAT_0000a004")
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    at.toggle(key=f"{key}_fix_turns").set_value(True).run()
    at.selectbox(key=f"{key}_role_v1_0").set_value("clinician").run()
    at.button(key=f"{key}_apply_roles").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(note.patient_id, note.timestamp)
    assert [(s.speaker, s.role_source) for s in stored.transcript[:2]] == [
        ("clinician", "clinician"),
        ("clinician", "voice"),
    ]


def test_confirming_a_recovered_name(app: App) -> None:
    note = add_note(app, "PAT_0000a005")
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    assert "“list in April” → **lisinopril?**" in markdown(at)
    at.button(key=f"{key}_confirm_0").click().run()
    assert not at.exception, at.exception
    med = app.stores.notes.get(note.patient_id, note.timestamp).medications[0]
    assert (med.verified, med.found_by, med.heard_as) == (True, "clinician", HEARD)
    assert "confirmed by a clinician" in markdown(at)
    assert any("Confirmed: “list in April” → **lisinopril**" in s.value for s in at.success)
    assert ":violet[→ lisinopril]" in markdown(at)  # no longer a question in the transcript
    assert not any("recovered from misheard speech" in w.value for w in at.warning)


def test_signed_note_offers_no_role_change(app: App) -> None:
    note = add_note(app, "PAT_0000a006")
    from backend.services.notes import sign_note

    sign_note(app.stores, Principal("doctor", Role.DOCTOR), note)
    key = f"scribe_review_{note.timestamp}"
    at = review(note.patient_id)
    assert not [b for b in at.button if b.key in (f"{key}_swap", f"{key}_confirm_0")]
    assert any("amend the note to fix them" in c.value for c in at.caption)


def test_three_speakers_roles_are_fixed_turn_by_turn_and_the_draft_is_redone(app: App) -> None:
    """A parent came along and the voices were named the wrong way round: the patient "other", the parent "patient"."""
    pid = "PAT_0000a007"
    app.stores.patients.add(Patient(patient_id=pid, name="Three Voices"))
    turns = [
        ("clinician", "Good morning, what brings you in today?"),
        ("other", "I have had a sore throat and a cough for four days."),
        ("patient", "She has been coughing all night and she did not go to school."),
        ("clinician", "Let me look at your throat. Drink plenty of fluids and rest."),
    ]
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.5, text=text, speaker=role, role_source="voice")
        for i, (role, text) in enumerate(turns)
    ]
    result = draft_transcript(segments, draft_note)
    note = app.stores.notes.add(
        Note(patient_id=pid, author="nurse").with_content(result.content, transcript=result.segments)
    )
    key = f"scribe_review_{note.timestamp}"
    at = review(pid)
    assert [r for r, _ in speakers(at)] == ["Clinician", "Other speaker", "Patient", "Clinician"]
    at.toggle(key=f"{key}_fix_turns").set_value(True).run()
    at.selectbox(key=f"{key}_role_v{note.version}_1").set_value("patient").run()
    at.selectbox(key=f"{key}_role_v{note.version}_2").set_value("other").run()
    at.button(key=f"{key}_apply_roles").click().run()
    assert not at.exception, at.exception
    stored = app.stores.notes.get(pid, note.timestamp)
    assert [s.speaker for s in stored.transcript] == ["clinician", "patient", "other", "clinician"]
    # Redrafted: the patient's own words are now reported as the patient's.
    assert "The patient has had a sore throat" not in note.sections["subjective"]
    assert "The patient has had a sore throat and a cough for 4 days" in stored.sections["subjective"]
    assert [r for r, _ in speakers(at)] == ["Clinician", "Patient", "Other speaker", "Clinician"]
    # Swapping clinician and patient leaves the third speaker where the clinician put them.
    at.button(key=f"{key}_swap").click().run()
    swapped = app.stores.notes.get(pid, note.timestamp)
    assert [s.speaker for s in swapped.transcript] == ["patient", "clinician", "other", "patient"]
