"""Every page renders for every role that can see it; signed-out users see only the sign-in page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.domain.models import Role
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.helpers.apptest import app_data_dir

PAGES = {
    Role.NURSE: ["patients", "scribe", "digitize", "timeline", "health_metrics"],
    Role.DOCTOR: ["dashboard", "patients", "scribe", "digitize", "timeline", "health_metrics", "ask", "admin"],
    Role.ADMIN: ["admin"],
}


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("apptest-data")
    with app_data_dir(path, demo_data=True, env={"COPILOT_DEMO": "1"}):
        yield path


def app_for(role: Role | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    if role is not None:
        at.session_state["auth_principal"] = Principal(role.value, role)
    return at


def test_signed_out_sees_only_sign_in() -> None:
    at = app_for(None).run()
    assert not at.exception
    assert [t.value for t in at.title] == [":material/stethoscope: Clinical Co-Pilot"]
    assert at.text_input(key="login_username") is not None
    texts = " ".join(m.value for m in at.markdown)
    assert "Ram Kumar" not in texts and "PAT_" not in texts
    assert "Demo accounts" in texts


def test_wrong_password_shows_error_and_stays_signed_out() -> None:
    at = app_for(None).run()
    at.text_input(key="login_username").set_value("nurse")
    at.text_input(key="login_password").set_value("not the password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert at.session_state["auth_principal"] is None


def test_sign_in_with_demo_account() -> None:
    at = app_for(None).run()
    at.text_input(key="login_username").set_value("doctor")
    at.text_input(key="login_password").set_value("doctor-demo")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["auth_principal"] == Principal("doctor", Role.DOCTOR)


@pytest.mark.parametrize(("role", "page"), [(r, p) for r, pages in PAGES.items() for p in pages])
def test_page_renders_for_role(role: Role, page: str) -> None:
    at = app_for(role).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.title, f"{page} shows no title for {role}"


def test_patients_page_registers_and_rejects_bad_phone() -> None:
    at = app_for(Role.NURSE).run()
    at.switch_page("pages/patients.py").run()
    at.text_input(key="patients_new_name").set_value("Test Person")
    at.text_input(key="patients_new_phone").set_value("12")
    at.button(key="FormSubmitter:patients_new_form-Register patient").click().run()
    assert any("not a valid phone number" in e.value for e in at.error)
    at.text_input(key="patients_new_phone").set_value("9845011111")
    at.button(key="FormSubmitter:patients_new_form-Register patient").click().run()
    assert any("Registered Test Person" in s.value for s in at.success)


def _silence_wav(seconds: float = 2.0) -> bytes:
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return out.getvalue()


def test_scribe_records_with_audio_input_and_queues_a_job() -> None:
    at = app_for(Role.NURSE)
    at.session_state["selected_patient_id"] = "PAT_de000001"
    at.run()
    at.switch_page("pages/scribe.py").run()
    at.audio_input(key="scribe_audio").set_value(("recording.wav", _silence_wav(), "audio/wav")).run()
    at.button(key="scribe_submit_recording").click().run()
    assert not at.exception
    assert any("Recording saved." in s.value for s in at.success)
    said = " ".join(s.value for s in at.success)
    assert "follow it under Recordings below" in said and "JOB_" not in said  # where to look, not a raw job id
    assert any(m.value == "**Recordings**" for m in at.markdown)  # and the queued recording is listed there


def test_scribe_upload_of_a_non_audio_file_is_refused() -> None:
    at = app_for(Role.NURSE)
    at.session_state["selected_patient_id"] = "PAT_de000001"
    at.run()
    at.switch_page("pages/scribe.py").run()
    at.file_uploader(key="scribe_upload").upload("visit.wav", b"this is not audio at all" * 10, "audio/wav").run()
    at.button(key="scribe_submit_upload").click().run()
    assert not at.exception
    assert any("not" in e.value and "audio" in e.value.lower() for e in at.error), [e.value for e in at.error]
