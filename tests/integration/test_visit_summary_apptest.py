"""The "Patient summary" preview of a signed note: language choice, the page, the downloads, drafts hidden."""

from __future__ import annotations

from tests.helpers.apptest import app_fixture, run_function

data_dir = app_fixture("visit-summary-apptest", demo_data=True, autouse=True)


def _preview(role: str) -> None:
    from backend.bootstrap import build_app
    from backend.config import Settings
    from backend.domain.models import Role
    from backend.services.access import Principal
    from backend.services.demo import demo_patient_id
    from backend.services.visit_summary import pick_note
    from ui.visit_summary import visit_summary_preview

    note = pick_note(build_app(Settings()).stores, demo_patient_id(1), None)
    visit_summary_preview(Principal(role, Role(role)), note, key="t")


def test_doctor_previews_in_hindi_and_can_download_html_and_pdf() -> None:
    at = run_function(_preview, "doctor")
    assert at.selectbox(key="t_summary_lang").options[:2] == ["English", "हिन्दी"]
    at.selectbox(key="t_summary_lang").set_value("hi")
    at.toggle(key="t_summary_show").set_value(True).run()
    assert not at.exception, at.exception
    html = at.get("iframe")[0].proto.srcdoc
    assert "<html lang='hi'>" in html and "आपकी दवाइयाँ" in html
    at.button(key="t_summary_pdf").click().run()
    assert not at.exception, at.exception
    assert not at.error


def test_nurse_sees_no_summary_export() -> None:
    at = run_function(_preview, "nurse")
    assert not at.selectbox and not at.toggle
