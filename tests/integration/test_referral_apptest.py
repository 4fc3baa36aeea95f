"""The "Referral letter" box under a signed note: typed recipient and reason, the letter, save, hidden from nurses."""

from __future__ import annotations

from tests.helpers.apptest import app_fixture, run_function

data_dir = app_fixture("referral-apptest", demo_data=True, autouse=True)


def _box(role: str) -> None:
    from backend.bootstrap import build_app
    from backend.config import Settings
    from backend.domain.models import Role
    from backend.services.access import Principal
    from backend.services.demo import demo_patient_id
    from backend.services.visit_summary import pick_note
    from ui.referral import referral_letter

    note = pick_note(build_app(Settings()).stores, demo_patient_id(1), None)
    referral_letter(Principal(role, Role(role)), note, key="t")


def _referrals() -> list[str]:
    from backend.bootstrap import build_app
    from backend.config import Settings
    from backend.services.demo import demo_patient_id
    from backend.services.timeline import all_history

    stores = build_app(Settings()).stores
    return [e.extracted_text for e in all_history(stores, demo_patient_id(1)) if e.source == "referral"]


def test_doctor_addresses_edits_and_saves_the_letter() -> None:
    at = run_function(_box, "doctor")
    at.toggle(key="t_referral_show").set_value(True).run()
    assert not at.exception, at.exception
    assert at.button(key="t_referral_save").disabled  # no recipient yet
    at.text_input(key="t_referral_to").set_value("Cardiology, City Hospital").run()
    at.text_area(key="t_referral_reason").set_value("Chest pain work-up").run()
    [letter] = [a for a in at.text_area if a.key.startswith("t_referral_letter_")]
    assert "To: Cardiology, City Hospital" in letter.value and "Reason for referral: Chest pain work-up" in letter.value
    letter.set_value(letter.value + "\nPlease see soon.\n").run()
    at.button(key="t_referral_save").click().run()
    assert not at.exception and not at.error, at.error
    saved = _referrals()
    assert len(saved) == 1 and "Please see soon." in saved[0] and "Cardiology, City Hospital" in saved[0]


def test_nurse_sees_no_referral_box() -> None:
    at = run_function(_box, "nurse")
    assert not at.toggle and not at.text_area
