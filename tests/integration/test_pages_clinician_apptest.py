"""Pages as a clinician reads them (AppTest over the real app, demo data): the dashboard names the anomalous signals as
the charts do, a patient's age is shown, and the Timeline's exports (FHIR R4, ABDM record, printable summary) stay
downloadable side by side."""

from __future__ import annotations

import io
import json
import wave

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import Note, NoteStatus, Patient, Role
from backend.domain.note_content import CodeChoice, Diagnosis
from backend.services.access import Principal
from backend.services.demo_metrics import write_demo_metrics
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("pages-clinician", demo_data=True)
DOCTOR = Principal("doctor", Role.DOCTOR)
NURSE = Principal("nurse", Role.NURSE)


def downloads(at: AppTest) -> dict[str, str]:
    """Label -> the text of each download button on the page."""
    return {d.proto.label: d.proto.url for d in at.get("download_button")}


def test_the_dashboard_names_the_signals_of_each_anomaly(app: App) -> None:
    write_demo_metrics(app.stores, "PAT_de000001", seed=0)  # seed 0 falls ill 5-9 days before today
    at = open_page("dashboard", DOCTOR)
    rows = [m.value for m in at.markdown if "illness score" in m.value]
    assert rows, "the demo data has patients with anomalies"
    assert not any("_" in row.split("illness score")[1] for row in rows)  # no stored keys like resting_hr
    assert any("Resting HR" in row for row in rows)


def test_a_patients_age_is_shown_and_identifiers_only_when_known(app: App) -> None:
    app.stores.patients.add(Patient(patient_id="PAT_0000e001", name="Age Test", dob="1960-01-01", sex="female"))
    at = open_page("patients", NURSE, "PAT_0000e001")
    (facts,) = [m.value for m in at.markdown if "**Age**" in m.value]
    assert "(born 1960-01-01)" in facts and "**Sex** female" in facts
    assert "ABHA" not in facts and "External ID" not in facts  # nothing to show


def test_exports_stay_downloadable_together_and_the_abdm_record_marks_codes(app: App) -> None:
    pid = "PAT_0000e002"
    app.stores.patients.add(Patient(patient_id=pid, name="Export Test"))
    confirmed = Diagnosis(text="Hypertension", icd10=CodeChoice(code="I10", by="doctor", at=1))
    app.stores.notes.add(
        Note(
            patient_id=pid,
            status=NoteStatus.SIGNED,
            signer="doctor",
            signed_at=1_700_000_000_000,
            sections={"assessment": "Hypertension; asthma."},
            diagnoses=[confirmed, Diagnosis(text="Asthma")],
        )
    )
    at = open_page("timeline", DOCTOR, pid)
    assert any("exported as a suggestion" in c.value for c in at.caption)
    at.button(key="timeline_fhir").click().run()
    at.button(key="timeline_abdm").click().run()
    at.button(key="timeline_summary").click().run()
    assert not at.exception, at.exception
    labels = set(downloads(at))
    assert labels == {
        "Download FHIR bundle (JSON)",
        "Download consultation (JSON)",  # short enough for its column at a laptop's width
        "Download summary (HTML)",
    }


def test_a_nurse_is_told_exports_are_for_doctors(app: App) -> None:
    at = open_page("timeline", NURSE, "PAT_de000001")
    assert any("Exports are available to doctors" in i.value for i in at.info)
    assert not [b for b in at.button if b.key in ("timeline_fhir", "timeline_abdm", "timeline_summary")]
    assert json.dumps(downloads(at)) == "{}"


def test_admin_offers_the_one_account_action_that_applies(app: App) -> None:
    from backend.services import auth

    auth.add_user(app.stores, "temp", "temp-password", Role.NURSE)
    at = open_page("admin", Principal("admin", Role.ADMIN))
    assert any("No API tokens yet" in c.value for c in at.caption)
    at.selectbox(key="admin_target").set_value("temp").run()
    assert at.button(key="admin_disable").label == "Disable temp"
    assert "admin_enable" not in [b.key for b in at.button]
    at.button(key="admin_disable").click().run()
    assert any("Disabled temp." in s.value for s in at.success)
    assert next(u for u in auth.list_users(app.stores, Principal("admin", Role.ADMIN)) if u.username == "temp").disabled
    assert at.button(key="admin_enable").label == "Enable temp"


def _silence_wav(seconds: float = 2.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return out.getvalue()


def test_an_uploaded_recording_is_sent_once(app: App) -> None:
    at = open_page("scribe", NURSE, "PAT_de000002")
    at.file_uploader(key="scribe_upload").upload("visit.wav", _silence_wav(), "audio/wav").run()
    at.button(key="scribe_submit_upload").click().run()
    assert any("Recording saved." in s.value for s in at.success), [e.value for e in at.error]
    at.run()  # the next run, e.g. the nurse clicks again
    assert "scribe_submit_upload" not in [b.key for b in at.button]
    assert any("was sent for a draft" in c.value for c in at.caption)
