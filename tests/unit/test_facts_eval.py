"""``eval facts``: each drafted medication and diagnosis is judged against a (made-up) reference note."""

from __future__ import annotations

import argparse
from pathlib import Path

from backend.domain.note_content import Diagnosis, Medication
from backend.evals import facts

NOTE = """HISTORY OF PRESENT ILLNESS

The patient has a history of high blood pressure. No history of asthma. Her mother has breast cancer.

ALLERGIES

Penicillin.

ASSESSMENT AND PLAN

Essential hypertension.
- Continue Zestril 20 mg once daily.
- Start Lasix.
"""


def test_the_note_is_read_as_the_draft_is() -> None:
    ref = facts.reference_facts(NOTE)
    assert set(ref.meds) == {"lisinopril", "furosemide"}  # brands by their generic; the allergy is not taken
    assert ref.meds["lisinopril"].strengths == {"20 mg"}
    assert "hypertension" in ref.diagnoses and "I10" in ref.codes
    assert "asthma" in ref.denied and "cancer" not in ref.diagnoses  # negated; a relative's


def test_strengths_are_read_whole() -> None:
    assert facts.strength_key("20mg") == facts.strength_key("20.0 mg") == "20 mg"
    assert facts.strength_key("400/80") == "400/80"
    ref = facts.reference_facts("Glyburide 2.5 mg PO daily. Triamcinolone 0.1% cream t.i.d.")
    assert ref.meds["glibenclamide"].strengths == {"2.5 mg"}  # a decimal point does not end the sentence
    assert ref.meds["triamcinolone"].strengths == {"0.1 %"}


def test_medications_are_judged_by_name_then_dose() -> None:
    ref = facts.reference_facts(NOTE)
    same = facts.medication_verdict(Medication(name="lisinopril", strength="20mg", verified=True), ref)
    assert (same["verdict"], same["dose"]) == ("supported", "supported")
    other = facts.medication_verdict(Medication(name="lisinopril", strength="40 mg", verified=True), ref)
    assert (other["verdict"], other["dose"]) == ("partly", "other")
    unstated = facts.medication_verdict(Medication(name="furosemide", strength="40 mg", verified=True), ref)
    assert (unstated["verdict"], unstated["dose"]) == ("partly", "unstated")
    assert facts.medication_verdict(Medication(name="penicillin", verified=True), ref)["verdict"] == "unsupported"


def test_diagnoses_match_by_name_code_or_breadth_and_a_denied_one_is_named() -> None:
    ref = facts.reference_facts(NOTE)
    assert facts.diagnosis_verdict(Diagnosis(text="hypertension"), ref)["verdict"] == "supported"
    assert facts.diagnosis_verdict(Diagnosis(text="HTN"), ref)["verdict"] == "supported"  # ICD-10 I10 both ways
    narrower = facts.reference_facts("ASSESSMENT\n\nType 2 diabetes.\n")
    assert facts.diagnosis_verdict(Diagnosis(text="diabetes"), narrower)["verdict"] == "partly"
    assert facts.diagnosis_verdict(Diagnosis(text="asthma"), ref)["verdict"] == "denied in note"
    assert facts.diagnosis_verdict(Diagnosis(text="gout"), ref)["verdict"] == "unsupported"


def test_precision_and_recall_over_a_made_up_consultation(tmp_path: Path) -> None:
    csv_file = tmp_path / "aci.csv"
    dialogue = (
        "[doctor] your blood pressure is high . we will continue the lisinopril 20 mg once a day .\n"
        "[patient] my mother has asthma .\n"
        "[doctor] we may start metformin later ."
    )
    note = "ASSESSMENT AND PLAN\n\nHypertension.\nContinue lisinopril 20 mg daily. Start furosemide."
    csv_file.write_text(f'dialogue,note\n"{dialogue}","{note}"\n', encoding="utf-8")
    result = facts.run(argparse.Namespace(aci=csv_file, mts=None, limit=None, list=False))
    assert result["medications"] == 1 and result["medication_precision"] == 1.0 and result["dose_precision"] == 1.0
    assert result["medication_recall"] == 0.5  # furosemide is in the note, not in the draft
    assert result["diagnoses"] == 0 and result["diagnosis_recall"] == 0.0  # "blood pressure is high" names none
    assert [i["name"] for i in result["items"]] == ["lisinopril"]
