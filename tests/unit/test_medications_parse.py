"""parse_line / parse_lines / extract_mentions, and the two evaluation commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from backend.domain.medications import extract_mentions, parse_line, parse_lines
from backend.evals import medlines, meds

DATA = Path(__file__).resolve().parents[1] / "data"


def test_indian_prescription_line_is_fully_structured() -> None:
    med = parse_line("Tab. Dolo 650 1-0-1 x 5 days after food")
    assert med is not None
    assert (med.name, med.verbatim, med.strength, med.form) == ("paracetamol", "Dolo", "650 mg", "tablet")
    assert (med.frequency, med.duration, med.instructions) == ("twice daily", "5 days", "after food")
    assert med.verified and med.corrected_from is None
    assert med.evidence.quote == "Tab. Dolo 650 1-0-1 x 5 days after food"


def test_ocr_noise_line() -> None:
    med = parse_line("Tab. Dol0 650 1-0-1 x 5 days")
    assert med is not None
    assert (med.name, med.strength, med.corrected_from) == ("paracetamol", "650 mg", "Dol0")


def test_syrup_concentration_and_missing_spaces() -> None:
    med = parse_line("Syp. Crocin 250mg/5ml 5 ml TDS")
    assert med is not None
    assert (med.name, med.strength, med.form, med.frequency) == (
        "paracetamol",
        "250 mg/5 ml",
        "syrup",
        "three times daily",
    )
    glued = parse_line("Tab.Glycomet500 BD")
    assert glued is not None and (glued.name, glued.strength, glued.form) == ("metformin", "500 mg", "tablet")


def test_us_style_line_with_route() -> None:
    med = parse_line("Ceftriaxone 1 g IV q12h x 5 days")
    assert med is not None
    assert (med.name, med.strength, med.route, med.frequency, med.duration) == (
        "ceftriaxone", "1 g", "IV", "every 12 hours", "5 days"
    )  # fmt: skip


def test_bare_number_after_levothyroxine_brand_is_micrograms() -> None:
    med = parse_line("Thyronorm 50 OD empty stomach")
    assert med is not None and med.strength == "50 mcg" and med.instructions == "on an empty stomach"


def test_names_joined_by_plus_form_one_combination() -> None:
    med = parse_line("Paracetamol + Codeine 500/30 q6h PRN")
    assert med is not None
    assert med.name == "paracetamol + codeine" and med.strength == "500/30"
    assert med.frequency == "every 6 hours as needed"


def test_lines_without_a_drug_give_none() -> None:
    for line in ["", "Dr. Sharma MBBS", "Date: 12/03/2024", "Patient name: Ramesh Kumar", "Take rest and drink water"]:
        assert parse_line(line) is None, line


def test_parse_lines_skips_headers_and_numbering() -> None:
    text = "Dr. A. Rao, MD\nRx\n1. Tab Pan-D 40 mg OD before food\n2. Cap. Omez 20 mg 1-0-0\n\nReview after 1 week"
    names = [m.name for m in parse_lines(text)]
    assert names == ["pantoprazole + domperidone", "omeprazole"]


def test_extract_mentions_fills_each_drug_from_its_own_clause() -> None:
    text = "Stop the aspirin and start clopidogrel 75 mg daily."
    mentions = extract_mentions(text)
    assert [text[m.start : m.end] for m in mentions] == ["aspirin", "clopidogrel"]
    aspirin, clopidogrel = (m.medication for m in mentions)
    assert aspirin.status == "stopped" and aspirin.strength is None
    assert clopidogrel.status == "started"
    assert (clopidogrel.strength, clopidogrel.frequency) == ("75 mg", "once daily")


def test_extract_mentions_in_dialogue() -> None:
    text = "Patient: I take Tylenol as needed and my metformin twice a day.\nDoctor: Continue the metformin."
    mentions = extract_mentions(text)
    assert [m.medication.name for m in mentions] == ["paracetamol", "metformin", "metformin"]
    assert mentions[0].medication.frequency == "as needed"
    assert mentions[1].medication.frequency == "twice daily"
    assert mentions[2].medication.status == "continued"


def test_extract_mentions_ignores_english_words_and_unknown_names() -> None:
    text = "I think the patient should take a pan of water. Frobnicate twice daily."
    assert extract_mentions(text) == []


def test_medlines_normalisation_is_fair() -> None:
    assert medlines.normalise("name", "Paracetamol + Ibuprofen") == medlines.normalise(
        "name", "ibuprofen + paracetamol"
    )
    assert medlines.normalise("strength", "500mg") == medlines.normalise("strength", "500 mg")
    assert medlines.normalise("strength", "60,000 IU") == medlines.normalise("strength", "60000 iu")
    assert medlines.normalise("duration", "1 days") == medlines.normalise("duration", "1 day")
    assert medlines.normalise("form", None) is None


def test_medlines_scoring_counts_false_positives_and_negatives() -> None:
    rows = [
        {"text": "Metformin 500 mg BD", "name": "metformin", "strength": "500 mg", "frequency": "twice daily"},
        {"text": "Tab Amlodipine 5 mg OD", "name": "amlodipine", "strength": "10 mg", "frequency": "once daily"},
    ]
    result = medlines.score(rows)
    per = result["per_field"]
    assert per["strength"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert per["form"]["precision"] == 0.0  # "tablet" predicted where gold is null
    assert result["line_accuracy"] == 0.5  # the first line is right in every field


@pytest.mark.parametrize(("name", "minimum"), [("medlines_dev.jsonl", 120), ("medlines_heldout.jsonl", 40)])
def test_gold_files_are_large_enough_and_valid(name: str, minimum: int) -> None:
    rows = medlines.load_gold(DATA / name)
    assert len(rows) >= minimum
    assert all(set(r) == {"text", *medlines.FIELDS} for r in rows)


def test_medlines_dev_set_scores_well() -> None:
    result = medlines.score(medlines.load_gold(DATA / "medlines_dev.jsonl"))
    assert result["micro"]["f1"] >= 0.95


def test_meds_eval_on_a_small_mts_style_file(tmp_path: Path) -> None:
    csv_path = tmp_path / "mts.csv"
    csv_path.write_text(
        "ID,section_header,section_text,dialogue\n"
        '0,MEDICATIONS,"Tylenol and lisinopril.","Doctor: Any medicines?\nPatient: Acetaminophen and lisinopril."\n'
        '1,MEDICATIONS,"None.","Patient: I do not take anything."\n'
        '2,GENHX,"Aspirin.","Patient: Aspirin."\n',
        encoding="utf-8",
    )
    result = meds.run(argparse.Namespace(mts=csv_path, header="medications", errors=0))
    assert result["rows"] == 2
    assert (result["precision"], result["recall"]) == (1.0, 1.0)


def test_meds_eval_on_mts_validation(shared_data: Path) -> None:
    path = shared_data / "mts-dialog" / "MTS-Dialog-ValidationSet.csv"
    result = meds.run(argparse.Namespace(mts=path, header="medications", errors=0))
    assert result["rows"] > 0
    assert result["f1"] >= 0.8
    json.dumps(result)


def test_letterhead_words_are_not_corrected_into_drugs() -> None:
    # "Medical" is one edit from the barbital brand "Medinal": without prescription context it stays text.
    assert parse_line("Lotus Medical Centre") is None
    med = parse_line("Tab. Metf0rmin 500 mg BD")
    assert med is not None and med.name == "metformin" and med.corrected_from


def test_line_labels_are_not_unknown_drugs() -> None:
    assert parse_line("Advice: Steam inhalation twice daily") is None
    assert parse_line("Diet: low salt 2 g daily") is None
    unknown = parse_line("Xyzolin 10 mg OD")
    assert unknown is not None and unknown.name == "Xyzolin" and not unknown.verified
