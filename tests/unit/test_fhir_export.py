"""FHIR R4 export: round trip through fhir.resources, codes checked by hand, drafts left out; HTML summary escaping."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient

from backend.domain.errors import PermissionDenied
from backend.domain.models import HistoryEntry, Medication, MetricDay, Note, NoteStatus, Patient, Role
from backend.formats.fhir_r4 import LOINC, UCUM, parse_bundle
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.export import export_bundle, summary_html

DOCTOR = Principal("dr", Role.DOCTOR)
PID = "PAT_0000aaaa"
T0 = 1_709_251_200_000  # 2024-03-01
DAY = 86_400_000

# Expected codes, written out independently of backend/data/fhir_codes.toml (validation does not check codes).
EXPECTED = {
    "resting_hr": ("40443-4", "/min", 58.0),
    "heart_rate": ("8867-4", "/min", 71.5),
    "spo2": ("59408-5", "%", 97.0),
    "temperature": ("8310-5", "Cel", 36.6),
    "steps": ("55423-8", "{steps}", 8123.0),
    "sleep_hours": ("93832-4", "h", 7.25),
    "hrv": ("80404-7", "ms", 48.0),
}


def _seed(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar", phone="+919812345678", dob="1961-04-02", sex="male"))
    original = stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            author="asha",
            signer="dr",
            signed_at=T0 + 3600_000,
            sections={"assessment": "Type 2 diabetes.", "plan": "Continue metformin 500 mg twice daily."},
            medications=[Medication(name="metformin", strength="500 mg", frequency="twice daily", verified=True)],
        )
    )
    stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=T0 + 30 * DAY,
            status=NoteStatus.SIGNED,
            amends=original.timestamp,
            sections={"plan": "Increase metformin to 1000 mg twice daily. Stop atorvastatin."},
            medications=[
                Medication(name="metformin", strength="1000 mg", frequency="twice daily", verified=True),
                Medication(name="atorvastatin", status="stopped", verified=True),
            ],
        )
    )
    stores.notes.add(
        Note(patient_id=PID, timestamp=T0 + 40 * DAY, status=NoteStatus.DRAFT, sections={"plan": "DRAFT-ONLY text."})
    )
    stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=T0 + DAY,
            medications=[
                Medication(name="atorvastatin", strength="10 mg", verified=True),
                Medication(name="Xyzolin", verified=False),
            ],
        )
    )
    days = [
        MetricDay(patient_id=PID, metric=m, day=f"2024-03-0{d}", value=v + d, unit="")
        for m, (_, _, v) in EXPECTED.items()
        for d in (1, 2)
    ]
    days.append(
        MetricDay(patient_id=PID, metric="temperature_dev", day="2024-03-01", value=0.3)
    )  # no LOINC code: not exported
    stores.metrics.upsert_days(days)


def _resources(bundle: dict[str, Any], kind: type) -> list[Any]:
    parsed = parse_bundle(json.dumps(bundle))
    return [e.resource for e in parsed.entry or [] if isinstance(e.resource, kind)]


def test_round_trip_keeps_patient_notes_medications_and_metrics(stores: RecordStore) -> None:
    _seed(stores)
    bundle = export_bundle(stores, DOCTOR, PID)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    text = json.dumps(bundle)

    (patient,) = _resources(bundle, FhirPatient)
    assert (
        patient.name[0].text == "Ram Kumar" and patient.name[0].family == "Kumar" and patient.name[0].given == ["Ram"]
    )
    assert (
        patient.telecom[0].value == "+919812345678"
        and str(patient.birthDate) == "1961-04-02"
        and patient.gender == "male"
    )
    assert patient.identifier[0].value == PID

    docs = sorted(_resources(bundle, DocumentReference), key=lambda d: d.date)
    assert len(docs) == 2  # the draft is not part of the exported record
    bodies = [d.content[0].attachment.data.decode() for d in docs]  # fhir.resources decodes base64Binary to bytes
    raw = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert {base64.b64decode(r["content"][0]["attachment"]["data"]).decode() for r in raw} == set(bodies)
    assert "Continue metformin 500 mg twice daily." in bodies[0] and "Increase metformin" in bodies[1]
    assert "DRAFT-ONLY" not in text
    assert docs[0].status == "superseded" and docs[1].docStatus == "amended"
    assert docs[1].relatesTo[0].code == "replaces" and docs[1].relatesTo[0].target.reference.endswith(docs[0].id)
    assert docs[0].type.coding[0].system == LOINC and docs[0].type.coding[0].code == "11506-3"

    meds = {m.medicationCodeableConcept.text: m for m in _resources(bundle, MedicationStatement)}
    assert set(meds) == {"metformin", "atorvastatin", "Xyzolin"}
    assert meds["metformin"].status == "active" and meds["metformin"].dosage[0].text == "1000 mg twice daily"
    assert meds["atorvastatin"].status == "stopped" and meds["atorvastatin"].effectivePeriod.end is not None
    assert any("not verified" in n.text for n in meds["Xyzolin"].note)
    assert meds["metformin"].derivedFrom and all(
        r.reference.startswith("urn:uuid:") for r in meds["metformin"].derivedFrom
    )

    observations = _resources(bundle, Observation)
    assert len(observations) == 2 * len(EXPECTED)
    seen = {}
    for obs in observations:
        coding = obs.code.coding[0]
        assert coding.system == LOINC and obs.valueQuantity.system == UCUM and obs.status == "final"
        seen[(coding.code, str(obs.effectiveDateTime))] = (obs.valueQuantity.code, float(obs.valueQuantity.value))
    for loinc, ucum, value in EXPECTED.values():
        assert seen[(loinc, "2024-03-01")] == (ucum, value + 1)
        assert seen[(loinc, "2024-03-02")] == (ucum, value + 2)

    refs = {e["resource"]["subject"]["reference"] for e in bundle["entry"] if "subject" in e["resource"]}
    assert refs == {f"urn:uuid:{patient.id}"}
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls))


def test_export_needs_the_export_permission_and_is_audited(stores: RecordStore) -> None:
    _seed(stores)
    with pytest.raises(PermissionDenied):
        export_bundle(stores, Principal("asha", Role.NURSE), PID)
    export_bundle(stores, DOCTOR, PID)
    event = stores.audit.query(patient_id=PID).items[0]
    assert event.action == "export.fhir" and event.actor == "dr"


def test_summary_html_escapes_everything_stored(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=PID, name="<script>alert(1)</script> Kumar"))
    stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            sections={"plan": "Take <b>2</b> & rest"},
            medications=[Medication(name="x<img src=y>", verified=False)],
        )
    )
    page = summary_html(
        stores,
        DOCTOR,
        PID,
        episodes_for=lambda pid: [
            {"metric": "hrv", "start_day": "2024-03-02", "end_day": "2024-03-03", "explanation": "HRV <low>"}
        ],
    )
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Take &lt;b&gt;2&lt;/b&gt; &amp; rest" in page and "x&lt;img src=y&gt;" in page and "HRV &lt;low&gt;" in page
    assert "name not verified" in page and page.startswith("<!doctype html>")
    assert stores.audit.query(patient_id=PID).items[0].action == "export.summary"
