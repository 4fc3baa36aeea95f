"""Linking a patient's Ultrahuman account on the patients page: checked, saved through the service, audited."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import Patient, Role
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("wearable-link", users={"nina": Role.NURSE, "dev": Role.DOCTOR})
PID = "PAT_0000beef"


def test_a_nurse_links_and_unlinks_the_account(app: App) -> None:
    app.stores.patients.add(Patient(patient_id=PID, name="Meena Rao"))
    at = open_page("patients", Principal("nina", Role.NURSE), PID)
    assert any("Wearable: not linked" in e.label for e in at.expander)
    at.text_input(key="patients_wearable").set_value("meena at example")
    at.button(key="FormSubmitter:patients_wearable_form-Save link").click().run()
    assert any("such as name@example.com" in e.value for e in at.error)
    assert app.stores.patients.get(PID).ultrahuman_email is None
    at.text_input(key="patients_wearable").set_value(" Meena.Rao@Example.COM ")
    at.button(key="FormSubmitter:patients_wearable_form-Save link").click().run()
    assert not at.exception and not at.error, at.error
    assert app.stores.patients.get(PID).ultrahuman_email == "Meena.Rao@example.com"
    assert any("Wearable: Ultrahuman, linked" in e.label for e in at.expander), [e.label for e in at.expander]
    assert "Wearable linked." in [m.value for m in at.success]  # said after the page reloads with the link
    at.text_input(key="patients_wearable").set_value("")
    at.button(key="FormSubmitter:patients_wearable_form-Save link").click().run()
    assert app.stores.patients.get(PID).ultrahuman_email is None
    assert "Wearable unlinked." in [m.value for m in at.success]
    trail = [(e.actor, e.action, e.detail) for e in app.stores.audit.query(patient_id=PID, limit=20).items]
    assert ("nina", "patient.wearable_link", "Ultrahuman linked") in trail
    assert ("nina", "patient.wearable_link", "unlinked") in trail
    assert not any("meena" in detail.lower() for _, _, detail in trail)  # the address is not in the audit trail
