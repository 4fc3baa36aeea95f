"""A clinician's ICD-10 code for a diagnosis: stored with the draft (checked, audited, optimistic), searched by words or
code, and exported as chosen (``userSelected`` true) while untouched codes stay marked as suggestions."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain import icd10
from backend.domain.errors import ConcurrentUpdate, PermissionDenied, ValidationFailed
from backend.domain.models import Note, NoteStatus, Patient, Role
from backend.domain.note_content import CodeChoice, Diagnosis
from backend.formats.fhir_abdm import build_abdm_bundle
from backend.formats.fhir_r4 import build_bundle
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.notes import choose_diagnosis_code

DOCTOR = Principal("drrao", Role.DOCTOR)
ADMIN = Principal("admin", Role.ADMIN)
PID = "PAT_0000dc01"
DIAGNOSES = [Diagnosis(text="Hypertension"), Diagnosis(text="Asthma"), Diagnosis(text="Right testicular nodule")]


def add_draft(stores: RecordStore, **update: Any) -> Note:
    note = Note(patient_id=PID, sections={"assessment": "Hypertension."}, diagnoses=DIAGNOSES)
    return stores.notes.add(note.model_copy(update=update))


def test_a_chosen_code_is_stored_with_who_chose_it_and_audited_without_the_code(stores: RecordStore) -> None:
    note = add_draft(stores)
    saved = choose_diagnosis_code(stores, DOCTOR, note, 1, " j45.0 ")
    choice = saved.diagnoses[1].icd10
    assert choice is not None and (choice.code, choice.by) == ("J45.0", "drrao")  # written as WHO writes it
    assert [d.icd10 for i, d in enumerate(saved.diagnoses) if i != 1] == [None, None]
    assert saved.version == note.version + 1 and saved.sections == note.sections
    assert stores.notes.get(PID, note.timestamp).diagnoses[1].icd10 == choice
    event = stores.audit.query(patient_id=PID).items[0]
    assert event.action == "note.code_diagnosis" and "J45" not in event.detail and "sthma" not in event.detail
    none = choose_diagnosis_code(stores, DOCTOR, saved, 2, None)
    assert none.diagnoses[2].icd10 is not None and none.diagnoses[2].icd10.code is None


@pytest.mark.parametrize(
    ("index", "code", "message"),
    [(0, "X99.9", "not a WHO ICD-10 code"), (0, "hypertension", "not a WHO ICD-10 code"), (3, "I10", "no such")],
)
def test_unknown_codes_and_diagnoses_are_refused(stores: RecordStore, index: int, code: str, message: str) -> None:
    note = add_draft(stores)
    with pytest.raises(ValidationFailed, match=message):
        choose_diagnosis_code(stores, DOCTOR, note, index, code)
    assert stores.notes.get(PID, note.timestamp).version == note.version


def test_signed_notes_stale_versions_and_roles_without_edit_are_refused(stores: RecordStore) -> None:
    note = add_draft(stores)
    with pytest.raises(PermissionDenied):
        choose_diagnosis_code(stores, ADMIN, note, 0, "I10")
    choose_diagnosis_code(stores, DOCTOR, note, 0, "I10")
    with pytest.raises(ConcurrentUpdate):  # someone saved since this screen was drawn
        choose_diagnosis_code(stores, DOCTOR, note, 1, "J45.9")
    signed = add_draft(stores, timestamp=note.timestamp + 1, status=NoteStatus.SIGNED, signer="drrao")
    with pytest.raises(ValidationFailed, match="signed"):
        choose_diagnosis_code(stores, DOCTOR, signed, 0, "I10")


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("htn", "I10"),  # a curated abbreviation
        ("type 2 diab", "E11"),  # word starts
        ("pnuemonia", "J18.9"),  # a misspelling, near the top
        ("E11.", "E11.0"),  # a code's start
        ("i10", "I10"),
    ],
)
def test_search_finds_codes_by_words_or_code(query: str, first: str) -> None:
    codes = [c for c, _ in icd10.search(query, limit=5)]
    assert first in codes[:2], codes
    assert all(icd10.is_code(c) for c in codes)


def test_search_gives_nothing_for_nonsense() -> None:
    assert icd10.search("zzzq") == [] and icd10.search("   ") == []


SIGNED = Note(
    patient_id=PID,
    timestamp=1_700_000_000_000,
    status=NoteStatus.SIGNED,
    author="drrao",
    signer="drrao",
    signed_at=1_700_000_100_000,
    sections={"subjective": "Headache.", "objective": "", "assessment": "Hypertension; asthma.", "plan": ""},
    diagnoses=[
        DIAGNOSES[0].model_copy(update={"icd10": CodeChoice(code="I15.0", by="drrao", at=1)}),  # picked another
        DIAGNOSES[1],  # untouched: still a suggestion
        DIAGNOSES[2].model_copy(update={"icd10": CodeChoice(code=None, by="drrao", at=1)}),  # "no code fits"
    ],
)
PATIENT = Patient(patient_id=PID, name="Asha Devi")


def _conditions(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["resource"]["code"]["text"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Condition" and "verificationStatus" in e["resource"]
    }


@pytest.mark.parametrize("export", ["abdm", "r4"])
def test_exports_mark_chosen_codes_as_chosen_and_suggestions_as_suggestions(export: str) -> None:
    if export == "abdm":
        bundle = build_abdm_bundle("OPConsultRecord", PATIENT, SIGNED, "text", 1_700_000_200_000)
    else:
        bundle = build_bundle(PATIENT, [SIGNED], [], [], 1_700_000_200_000)
    conditions = _conditions(bundle)
    chosen = conditions["Hypertension"]
    assert chosen["code"]["coding"] == [
        {
            "system": icd10.SYSTEM,
            "code": "I15.0",
            "display": "Renovascular hypertension",
            "userSelected": True,
        }
    ]
    assert chosen["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert "note" not in chosen
    suggested = conditions["Asthma"]
    assert [(c["code"], c["userSelected"]) for c in suggested["code"]["coding"]] == [("J45.9", False)]
    assert suggested["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert any("not confirmed" in n["text"] for n in suggested["note"])
    uncoded = conditions["Right testicular nodule"]
    assert "coding" not in uncoded["code"] and any("No ICD-10 code" in n["text"] for n in uncoded["note"])


def test_the_r4_export_lists_the_diagnoses_of_current_notes_only() -> None:
    amendment = SIGNED.model_copy(
        update={"timestamp": SIGNED.timestamp + 5, "amends": SIGNED.timestamp, "diagnoses": [DIAGNOSES[1]]}
    )
    bundle = build_bundle(PATIENT, [SIGNED, amendment], [], [], 1_700_000_200_000)
    assert list(_conditions(bundle)) == ["Asthma"]  # the amended note's conditions are not listed twice
    (asthma,) = _conditions(bundle).values()
    documents = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"}
    assert asthma["evidence"][0]["detail"][0]["reference"] in documents
