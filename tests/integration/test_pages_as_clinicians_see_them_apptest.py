"""What a nurse or doctor reads on the pages: words, not codes or ids; a next step from an empty or found state;
the verified mark on screen beside a drug's name; the after-visit summary where a note was just signed; a dated
document shown as its day (AppTest over the real app, SQLite store)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role, Segment
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page
from ui.safe import md_escape

app = app_fixture("pages-as-seen", users={"nurse": Role.NURSE, "doctor": Role.DOCTOR, "root": Role.ADMIN})
NURSE = Principal("nurse", Role.NURSE)
DOCTOR = Principal("doctor", Role.DOCTOR)
T0 = 1_780_000_000_000


def _patient(app: App, pid: str) -> str:
    app.stores.patients.add(Patient(patient_id=pid, name="Seen Test", dob="1980-05-01"))
    return pid


def _recovered_draft(app: App, pid: str, status: NoteStatus = NoteStatus.DRAFT) -> Note:
    med = Medication(
        name="allopurinol", verbatim="alapurinol", strength="100 mg", verified=False, found_by="sounds_like",
        heard_as="alapurinol",
    )  # fmt: skip
    note = Note(
        patient_id=pid,
        timestamp=T0,
        author="nurse",
        status=status,
        signer="doctor" if status is NoteStatus.SIGNED else None,
        signed_at=T0 if status is NoteStatus.SIGNED else None,
        transcript=[Segment(id=0, start=0.0, end=3.0, text="I take alapurinol 100 mg.", speaker="patient")],
        sections={"subjective": "Takes allopurinol 100 mg.", "plan": "Continue."},
        medications=[med],
    )
    return app.stores.notes.add(note)


def test_the_review_shows_verified_beside_the_name_and_nothing_highlighted_at_first(app: App) -> None:
    pid = _patient(app, "PAT_0000e001")
    _recovered_draft(app, pid)
    at = open_page("scribe", NURSE, pid)
    (meds,) = [d.value for d in at.dataframe if "heard_as" in d.value.columns]
    # At a laptop's width the table scrolls sideways after a few columns: the verified mark must come first.
    assert list(meds.columns)[:3] == ["name", "heard_as", "verified"], list(meds.columns)
    assert at.selectbox(key=f"scribe_review_{T0}_evidence").value == "(nothing highlighted)"


def test_a_signed_note_offers_its_after_visit_summary_on_the_scribe_page(app: App) -> None:
    pid = _patient(app, "PAT_0000e002")
    _recovered_draft(app, pid, NoteStatus.SIGNED)
    doctor = open_page("scribe", DOCTOR, pid)
    assert any("Patient summary" in m.value for m in doctor.markdown)
    nurse = open_page("scribe", NURSE, pid)  # nurses do not export: no summary box
    assert not any("Patient summary" in m.value for m in nurse.markdown)


def test_a_found_patient_has_next_steps_that_open_the_page_with_them(app: App) -> None:
    pid = _patient(app, "PAT_0000e003")
    at = open_page("patients", NURSE, pid)
    labels = [b.label for b in at.button]
    for label in ("Record a consultation", "Digitize a prescription", "Open the timeline", "Health metrics"):
        assert label in labels
    at.button(key="patients_go_pages/timeline.py").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Timeline"]
    assert at.session_state["selected_patient_id"] == pid


def test_the_timeline_names_a_lists_source_and_shows_a_dated_document_as_its_day(app: App) -> None:
    pid = _patient(app, "PAT_0000e004")
    med = Medication(name="metformin", verbatim="Metformin 500 mg", strength="500 mg", verified=True)
    app.stores.history.add(HistoryEntry(patient_id=pid, timestamp=T0, medications=[med], source="demo"))
    app.stores.history.add(
        HistoryEntry(
            patient_id=pid,
            timestamp=T0 + 1,
            medications=[med],
            source="digitize:image",
            document_key="blob-x",
            document_date="2025-10-08",
        )
    )
    at = open_page("timeline", DOCTOR, pid)
    labels = [e.proto.label for e in at.expander]
    assert any(label.endswith(md_escape("Medication list (1 medication)") + " · demo data") for label in labels)
    (dated,) = [label for label in labels if md_escape("dated 2025-10-08") in label]
    assert " 2025-10-08 · " + md_escape("Document (1 medication)") in dated, labels  # the day, not 05:30 of it
    assert any(c.value.startswith("2 items · times in") for c in at.caption)


def test_ask_without_a_patient_says_what_to_do(app: App) -> None:
    at = open_page("ask", DOCTOR)
    assert any("patient ID in the box above to ask about their notes" in i.value for i in at.info)
    at.text_input(key="ask_term").set_value("zolpidemx")
    at.button(key="FormSubmitter:ask_search_form-Find patients").click().run()
    assert any("“zolpidemx”: check the spelling, or try the generic name" in i.value for i in at.info)


def test_the_dashboards_activity_is_in_words(app: App) -> None:
    pid = _patient(app, "PAT_0000e005")
    open_page("patients", DOCTOR, pid)  # opening a patient is audited
    at = open_page("dashboard", DOCTOR)
    (activity,) = [d.value for d in at.dataframe if "what" in d.value.columns]
    assert "opened a patient" in set(activity["what"])
    assert not any("." in str(v) for v in activity["what"])


def test_saving_a_draft_and_starting_an_amendment_say_so_after_the_page_reloads(app: App) -> None:
    pid = _patient(app, "PAT_0000e006")
    _recovered_draft(app, pid)
    at = open_page("scribe", NURSE, pid)
    at.button(key=f"scribe_review_{T0}_save").click().run()
    assert not at.exception, at.exception
    assert "Draft saved. It waits on the doctor's dashboard for signature." in [s.value for s in at.success]

    signed = _patient(app, "PAT_0000e007")
    _recovered_draft(app, signed, NoteStatus.SIGNED)
    doctor = open_page("scribe", DOCTOR, signed)
    doctor.button(key=f"scribe_review_{T0}_amend").click().run()
    assert not doctor.exception, doctor.exception
    assert any(s.value.startswith("Amendment started as a new draft of ") for s in doctor.success)
    assert len(app.stores.notes.list_for_patient(signed).items) == 2  # the signed note and its amendment


def test_an_added_user_is_confirmed_after_the_page_reloads(app: App) -> None:
    at = open_page("admin", Principal("root", Role.ADMIN))
    at.text_input(key="admin_new_username").set_value("meera")
    at.text_input(key="admin_new_password").set_value("a long enough password 42")
    at.button(key="FormSubmitter:admin_add_user-Add user").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Added meera." in [m.value for m in at.success]
