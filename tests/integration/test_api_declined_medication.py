"""Over HTTP: a clinician marks a drug declined with its reason, signs, and every reader keeps it out of "active"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.domain.models import Medication, Note, Patient
from tests.helpers.api_client import ApiHarness, api_harness

PID = "PAT_0000d0d0"
REASON = "patient prefers not to take a statin"
PLAN = "Continue metformin; the patient prefers not to take a statin."


def _draft(tmp_path: Path, *meds: Medication) -> tuple[ApiHarness, Note, str]:
    h = api_harness(tmp_path, demo=False)
    h.app.stores.patients.add(Patient(patient_id=PID, name="Ravi Kumar", phone="+919876543210"))
    note = h.app.stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=1_709_251_200_000,
            author="nurse",
            sections={"plan": PLAN},
            medications=list(meds),
        )
    )
    return h, note, f"/v1/patients/{PID}/notes/{note.timestamp}"


def _put(h: ApiHarness, url: str, version: int, rows: list[dict[str, Any]]) -> Any:
    body = {"version": version, "sections": {"plan": PLAN}, "medications": rows}
    return h.client.put(url, json=body, headers=h.auth("doctor"))


def test_declined_round_trips_and_is_never_active(tmp_path: Path) -> None:
    statin = Medication(name="atorvastatin", status="continued", verified=True)
    h, draft, url = _draft(tmp_path, statin, Medication(name="metformin", verified=True))
    doctor = h.auth("doctor")
    rows = [
        {"name": "atorvastatin", "status": "declined", "status_reason": REASON},
        {"name": "metformin", "status": "continued"},
    ]
    edited = _put(h, url, draft.version, rows)
    assert edited.status_code == 200, edited.text
    meds = {m["name"]: m for m in edited.json()["medications"]}
    assert (meds["atorvastatin"]["status"], meds["atorvastatin"]["status_reason"]) == ("declined", REASON)
    assert meds["atorvastatin"]["verified"]  # the same name: still verified
    assert h.client.get(url, headers=doctor).json()["medications"] == edited.json()["medications"]
    assert _put(h, url, edited.json()["version"], [{"name": "aspirin", "status": "refused"}]).status_code == 422

    signed = h.client.post(f"{url}/sign", json={"version": edited.json()["version"]}, headers=doctor)
    assert signed.status_code == 200, signed.text
    listed = h.client.get(f"/v1/patients/{PID}/medications", headers=doctor).json()
    assert [(m["name"], m["status"], m["status_reason"]) for m in listed] == [
        ("metformin", "active", ""),
        ("atorvastatin", "declined", REASON),
    ]
    bundle = h.client.get(f"/v1/patients/{PID}/fhir", headers=doctor).json()
    statements = {
        e["resource"]["medicationCodeableConcept"]["text"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationStatement"
    }
    assert statements["atorvastatin"]["status"] == "not-taken"
    assert statements["atorvastatin"]["statusReason"] == [{"text": REASON}]

    schema = h.client.get("/openapi.json").json()["components"]["schemas"]
    assert "declined" in schema["MedicationIn"]["properties"]["status"]["anyOf"][0]["enum"]
    assert "declined" in schema["ActiveMedicationOut"]["properties"]["status"]["enum"]


def test_a_new_status_clears_a_declined_reason_unless_one_is_sent(tmp_path: Path) -> None:
    h, draft, url = _draft(tmp_path, Medication(name="atorvastatin", status="declined", status_reason=REASON))
    kept = _put(h, url, draft.version, [{"name": "atorvastatin"}])
    assert kept.status_code == 200, kept.text
    assert kept.json()["medications"][0]["status_reason"] == REASON  # status not sent: unchanged
    started = _put(h, url, kept.json()["version"], [{"name": "atorvastatin", "status": "started"}]).json()
    assert (started["medications"][0]["status"], started["medications"][0]["status_reason"]) == ("started", None)
