"""``eval drafted_drugs``: the draft's medication list against the note's drugs, listed and taken."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from backend.evals import drafted_drugs

DIALOGUE = (
    "[doctor] are you still taking the metformin ? [patient] yes , 500 mg twice a day . "
    "[patient] i stopped the lisinopril last month . [doctor] we will start atorvastatin 20 mg daily ."
)
NOTE = "MEDICATIONS\n\nMetformin 500 mg twice daily.\n\nPLAN\n\nStart atorvastatin 20 mg daily."


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "aci.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["dialogue", "note"])
        writer.writeheader()
        writer.writerow({"dialogue": "[doctor] hello . [patient] hi .", "note": "No medications."})
        writer.writerow({"dialogue": DIALOGUE, "note": NOTE})
    return path


def test_a_stopped_drug_counts_in_the_listed_figures_but_not_as_taken(tmp_path: Path) -> None:
    args = argparse.Namespace(aci=_csv(tmp_path), first=1, n=1, list=False)
    result = drafted_drugs.run(args)
    assert result["rows"] == "1-1"
    assert result["listed"] == {"precision": 0.667, "recall": 1.0, "drafted": 3, "reference": 2, "correct": 2}
    assert result["taking"] == {"precision": 1.0, "recall": 1.0, "drafted": 2, "reference": 2, "correct": 2}


def test_tags_inside_a_line_become_one_turn_a_line() -> None:
    assert drafted_drugs.transcript_lines("[doctor] hi . [patient] hello .") == "[doctor] hi .\n[patient] hello ."


def test_a_drug_tried_without_help_is_counted_as_tried_and_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "aci.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["dialogue", "note"])
        writer.writeheader()
        writer.writerow(
            {
                "dialogue": "[patient] i tried naproxen , it did not help . [patient] i take metformin daily .",
                "note": "Naproxen did not improve the pain. He takes metformin daily.",
            }
        )
    result = drafted_drugs.run(argparse.Namespace(aci=path, first=0, n=None, list=False))
    assert result["listed"]["recall"] == 1.0 and result["taking"]["recall"] == 0.5
    assert result["tried"] == {"drafted": 1, "in_note": 1}
