"""Drug mentions in dialogue: precision/recall/F1 of ``extract_mentions`` on MTS-Dialog medication rows.

Rows whose ``section_header`` is "medications" (case-insensitive; the MTS-Dialog files use
"MEDICATIONS") are scored. Prediction: the set of generic names of ``extract_mentions(dialogue)``.
Gold: the set of drug names found in ``section_text`` by the same exact dictionary + brand
lookup, normalised to the generic (so "Tylenol" in the note and "acetaminophen" in the
dialogue both count as paracetamol). Combinations count by ingredient on both sides (the note's
"fluticasone/salmeterol" == the dialogue's "Advair"). Counts are micro over rows (set intersection per row).
Rows whose note names no drug (e.g. "None.") still count: any predicted name is a false positive.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from backend.domain.errors import ValidationFailed
from backend.domain.medications import extract_mentions
from backend.domain.medications.parser import find_names

REQUIRED = ("section_header", "section_text", "dialogue")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval meds``."""
    parser.add_argument(
        "--mts", required=True, type=Path, help="MTS-Dialog CSV (ID, section_header, section_text, dialogue)"
    )
    parser.add_argument("--header", default="medications", help="section_header to score (case-insensitive)")
    parser.add_argument("--errors", type=int, default=0, help="also return up to N rows with a mismatch")


def gold_names(section_text: str) -> set[str]:
    """Generic names of the drugs named in a note section."""
    return {c for hit in find_names(section_text, correct=False, strict_ambiguous=True) for c in hit.match.components}


def predicted_names(dialogue: str) -> set[str]:
    """Generic names of the drugs ``extract_mentions`` finds in a dialogue."""
    return {
        c.strip() for m in extract_mentions(dialogue) if m.medication.verified for c in m.medication.name.split(" + ")
    }


def load_rows(path: Path, header: str) -> list[dict[str, str]]:
    """Rows of ``path`` whose section header is ``header``."""
    if not path.is_file():
        raise ValidationFailed(f"MTS-Dialog file {path} does not exist: pass the CSV with --mts.")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed(f"{path} lacks the column(s) {', '.join(missing)}; is it an MTS-Dialog CSV?")
        return [row for row in reader if row["section_header"].strip().lower() == header.lower()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Score ``extract_mentions`` against names in the notes of the chosen MTS-Dialog rows."""
    rows = load_rows(args.mts, args.header)
    tp = fp = fn = 0
    errors: list[dict[str, Any]] = []
    for row in rows:
        gold = gold_names(row["section_text"])
        pred = predicted_names(row["dialogue"])
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        if gold != pred and len(errors) < args.errors:
            errors.append(
                {"id": row.get("ID"), "gold": sorted(gold), "pred": sorted(pred), "note": row["section_text"]}
            )
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    result: dict[str, Any] = {
        "rows": len(rows),
        "gold_names": tp + fn,
        "predicted_names": tp + fp,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
    }
    if args.errors:
        result["errors"] = errors
    return result
