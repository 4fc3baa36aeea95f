"""A declined drug exports as R4 MedicationStatement "not-taken" with its reason, never as active or requested."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationstatement import MedicationStatement

from backend.domain.errors import ValidationFailed
from backend.domain.models import Medication, Note, NoteStatus, Patient, Role
from backend.formats.fhir_abdm import build_abdm_bundle
from backend.formats.fhir_r4 import parse_bundle
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.export import export_bundle

PID = "PAT_0000dddd"
T0 = 1_709_251_200_000
REASON = "patient prefers not to take a statin"
# R4 (and R4B) value set medication-statement-status, written out here: validation does not check codes.
R4_STATUSES = {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
PATIENT = Patient(patient_id=PID, name="Ram Kumar", phone="+919812345678", sex="male")
NOTE = Note(
    patient_id=PID,
    timestamp=T0,
    status=NoteStatus.SIGNED,
    author="asha",
    signer="dr",
    signed_at=T0 + 60_000,
    sections={"plan": "Continue metformin. Declined atorvastatin."},
    medications=[
        Medication(name="metformin", strength="500 mg", frequency="twice daily", verified=True),
        Medication(name="atorvastatin", status="declined", status_reason=REASON, verified=True),
    ],
)


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_r4_export_says_not_taken_with_the_reason_and_no_period_of_use(stores: RecordStore) -> None:
    stores.patients.add(PATIENT)
    stores.notes.add(NOTE)
    bundle = export_bundle(stores, Principal("dr", Role.DOCTOR), PID)
    parsed = parse_bundle(json.dumps(bundle))  # fhir.resources R4B: the structure is valid R4
    meds = {e.resource.medicationCodeableConcept.text: e.resource for e in parsed.entry or [] if isinstance(e.resource, MedicationStatement)}  # fmt: skip
    statin, metformin = meds["atorvastatin"], meds["metformin"]
    assert statin.status == "not-taken" and [r.text for r in statin.statusReason] == [REASON]
    assert statin.effectivePeriod is None  # never taken: no period of use
    assert metformin.status == "active" and not metformin.statusReason
    assert {m["status"] for m in _of(bundle, "MedicationStatement")} <= R4_STATUSES


def test_the_abdm_consultation_states_it_not_taken_and_the_prescription_leaves_it_out() -> None:
    consult = build_abdm_bundle("OPConsultRecord", PATIENT, NOTE, "text", T0 + 120_000)
    Bundle.model_validate(consult)
    (statement,) = _of(consult, "MedicationStatement")
    assert statement["status"] == "not-taken" and statement["statusReason"] == [{"text": REASON}]
    assert statement["medicationCodeableConcept"] == {"text": "atorvastatin"}
    assert statement["meta"]["profile"][0].endswith("/MedicationStatement")
    assert [r["medicationCodeableConcept"]["text"] for r in _of(consult, "MedicationRequest")] == ["metformin"]
    (composition,) = _of(consult, "Composition")
    listed = {ref["reference"] for s in composition["section"] for ref in s.get("entry", [])}
    assert "urn:uuid:" + statement["id"] in listed  # in the consultation's medications section

    prescription = build_abdm_bundle("PrescriptionRecord", PATIENT, NOTE, "text", T0 + 120_000)
    Bundle.model_validate(prescription)
    assert not _of(prescription, "MedicationStatement")
    assert [r["medicationCodeableConcept"]["text"] for r in _of(prescription, "MedicationRequest")] == ["metformin"]
    only_declined = NOTE.model_copy(update={"medications": NOTE.medications[1:]})
    with pytest.raises(ValidationFailed, match="no medications"):
        build_abdm_bundle("PrescriptionRecord", PATIENT, only_declined, "text", T0 + 120_000)
