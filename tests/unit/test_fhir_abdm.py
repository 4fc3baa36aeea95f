"""ABDM document bundles (NRCeS OPConsultRecord, PrescriptionRecord): the profiles' required elements, references
that resolve inside the bundle, ABHA identifiers, and ICD-10 codes marked as unconfirmed suggestions."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, NoteStatus, Patient
from backend.domain.note_content import CitedText, Diagnosis, Medication
from backend.formats.fhir_abdm import NRCES, build_abdm_bundle

PATIENT = Patient(
    patient_id="PAT_1a2b3c4d",
    name="Asha Devi",
    sex="female",
    dob="1980-01-02",
    abha_number="91-1234-5678-9012",
    abha_address="asha.devi@abdm",
)
NOTE = Note(
    patient_id=PATIENT.patient_id,
    timestamp=1_700_000_000_000,
    status=NoteStatus.SIGNED,
    author="drrao",
    signer="drrao",
    signed_at=1_700_000_100_000,
    sections={"subjective": "Cough for 3 days.", "objective": "BP 150/95.", "assessment": "", "plan": ""},
    chief_complaint=CitedText(text="cough"),
    diagnoses=[
        Diagnosis(text="Hypertension"),
        Diagnosis(text="pneumonia", certainty="possible", unverified=True),
        Diagnosis(text="Right testicular nodule"),
    ],
    medications=[Medication(name="amlodipine", strength="5 mg", frequency="once daily", verified=True)],
)
# The NRCeS profiles' minimum cardinalities (1..1 / 1..*) that the IG lists, as dotted paths.
BUNDLE_REQUIRED = ["meta.versionId", "identifier.system", "identifier.value", "timestamp", "type", "entry"]
COMPOSITION_REQUIRED = [
    "status", "type.coding.code", "subject.reference", "date", "author", "title", "section", "section.code",
]  # fmt: skip
RESOURCE_REQUIRED = {
    "Patient": ["identifier", "name"],
    "Practitioner": ["identifier", "name"],
    "Encounter": ["status", "class", "subject.reference"],
    "Condition": ["code", "subject.reference"],
    "MedicationRequest": ["status", "intent", "medicationCodeableConcept", "subject.reference", "requester"],
    "DocumentReference": ["status", "type", "subject.reference", "content.attachment"],
}


def _values(node: Any, path: str) -> list[Any]:
    """Every value at a dotted path (lists flattened); empty when the element is absent."""
    nodes = [node]
    for part in path.split("."):
        nodes = [x for n in nodes if isinstance(n, dict) and part in n for x in _as_list(n[part])]
    return [n for n in nodes if n not in (None, "", [], {})]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return own + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


@pytest.mark.parametrize(
    ("kind", "code", "sections"),
    [
        ("OPConsultRecord", "371530004", {"422843007", "425044008", "721912009", "371530004"}),
        ("PrescriptionRecord", "440545006", {"440545006"}),
    ],
)
def test_bundle_has_every_element_the_profile_requires(kind: str, code: str, sections: set[str]) -> None:
    bundle = build_abdm_bundle(kind, PATIENT, NOTE, "Subjective:\nCough.", 1_700_000_200_000)  # type: ignore[arg-type]
    Bundle.model_validate(bundle)  # base R4 structure and cardinality (fhir.resources R4B)
    assert bundle["type"] == "document" and bundle["meta"]["profile"] == [NRCES + "DocumentBundle"]
    assert [p for p in BUNDLE_REQUIRED if not _values(bundle, p)] == []
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"  # a document's first entry
    assert composition["meta"]["profile"] == [NRCES + kind]
    assert [p for p in COMPOSITION_REQUIRED if not _values(composition, p)] == []
    assert _values(composition, "type.coding.code") == [code]
    assert {c for s in composition["section"] for c in _values(s, "code.coding.code")} == sections
    for s in composition["section"]:
        assert s.get("entry") or s.get("text"), s  # a section has entries or text (cmp-1)
    for entry in bundle["entry"][1:]:
        res = entry["resource"]
        assert res["meta"]["profile"] == [NRCES + res["resourceType"]]
        missing = [p for p in RESOURCE_REQUIRED[res["resourceType"]] if not _values(res, p)]
        assert missing == [], res["resourceType"]
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Practitioner", "Encounter", "MedicationRequest"} <= kinds
    if kind == "PrescriptionRecord":
        assert _values(composition, "section.entry.reference")  # 1..* entries: the medication requests


@pytest.mark.parametrize("kind", ["OPConsultRecord", "PrescriptionRecord"])
def test_every_reference_resolves_inside_the_bundle(kind: str) -> None:
    bundle = build_abdm_bundle(kind, PATIENT, NOTE, "text", 1_700_000_200_000)  # type: ignore[arg-type]
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    refs = _references([e["resource"] for e in bundle["entry"]])
    assert refs and [r for r in refs if r not in full_urls] == []


def test_patient_carries_abha_number_and_address_with_the_ndhm_system() -> None:
    bundle = build_abdm_bundle("OPConsultRecord", PATIENT, NOTE, "text", 1_700_000_200_000)
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    ids = {i["type"].get("text", ""): (i["system"], i["value"]) for i in patient["identifier"]}
    assert ids["ABHA number"] == ("https://healthid.ndhm.gov.in", "91-1234-5678-9012")
    assert ids["ABHA address"][1] == "asha.devi@abdm"


def test_icd10_codes_are_unconfirmed_suggestions_and_none_is_invented() -> None:
    bundle = build_abdm_bundle("OPConsultRecord", PATIENT, NOTE, "text", 1_700_000_200_000)
    conditions = {
        e["resource"]["code"]["text"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Condition" and "verificationStatus" in e["resource"]
    }
    htn = conditions["Hypertension"]
    assert htn["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10",
            "code": "I10",
            "display": "Essential (primary) hypertension",
            "userSelected": False,
        }
    ]
    assert htn["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert conditions["pneumonia"]["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert "coding" not in conditions["Right testicular nodule"]["code"]  # no code rather than a guess


def test_drafts_and_empty_prescriptions_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="signed"):
        build_abdm_bundle("OPConsultRecord", PATIENT, NOTE.model_copy(update={"signer": None}), "t", 1)
    with pytest.raises(ValidationFailed, match="no medications"):
        build_abdm_bundle("PrescriptionRecord", PATIENT, NOTE.model_copy(update={"medications": []}), "t", 1)
