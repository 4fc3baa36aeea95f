"""Medication-line parser: field-level precision/recall/F1 and whole-line accuracy on a JSONL gold file.

Each gold line is ``{"text": ..., "name": ..., "strength": ..., "form": ..., "route": ...,
"frequency": ..., "duration": ...}`` with absent fields null. The text goes through
``parse_line``; each field is compared after a fair normalisation:

- every field: lower case, surrounding spaces/punctuation dropped, runs of spaces collapsed;
- name: compared on the generic; a combination is the sorted set of its " + " components,
  so "paracetamol + ibuprofen" == "ibuprofen + paracetamol";
- strength: spaces removed and unit spellings unified (mcg/µg/ug, g/gm, iu, unit(s), puff(s)),
  thousands separators dropped: "500mg" == "500 mg", "60,000 IU" == "60000 iu";
- frequency and duration: compared on the canonical text the parser emits ("twice daily",
  "5 days"), which the gold file also uses; singular/plural units are unified.

Counting (micro over fields, and per field): a predicted non-null value equal to a non-null
gold value is a true positive; a predicted value that differs from gold or where gold is null
is a false positive; a gold value that was not predicted (or predicted wrongly) is a false
negative. Whole-line accuracy: all six fields equal (null == null).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from backend.domain.errors import ValidationFailed
from backend.domain.medications import parse_line

FIELDS = ("name", "strength", "form", "route", "frequency", "duration")
_UNIT_SPELLINGS = (
    (r"micrograms?|µg|ug", "mcg"),
    (r"milligrams?", "mg"),
    (r"grams?|gms?", "g"),
    (r"i\.u\.", "iu"),
    (r"units?", "unit"),
    (r"puffs?", "puff"),
    (r"drops?", "drop"),
    (r"sprays?", "spray"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval medlines``."""
    parser.add_argument("--gold", required=True, type=Path, help="JSONL gold file (one medication line per row)")
    parser.add_argument("--errors", type=int, default=0, help="also return up to N mismatched lines")


def normalise(field: str, value: Any) -> str | None:
    """Comparison form of one field value (None stays None)."""
    if value is None:
        return None
    text = " ".join(str(value).lower().strip(" .,;:").split())
    if not text:
        return None
    if field == "name":
        return " + ".join(sorted(part.strip() for part in text.split("+")))
    if field == "strength":
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
        for pattern, unit in _UNIT_SPELLINGS:
            text = re.sub(rf"(?<![a-z])(?:{pattern})(?![a-z])", unit, text)
        return text.replace(" ", "")
    if field == "duration":
        return re.sub(r"(day|week|month|year)s\b", r"\1", text)
    return text


def load_gold(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL gold file; a clear error when the file is missing or malformed."""
    if not path.is_file():
        raise ValidationFailed(f"Gold file {path} does not exist: pass a JSONL file with --gold.")
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValidationFailed(f"Line {number} of {path} is not valid JSON ({e.msg}); fix or remove it.") from e
        if "text" not in row:
            raise ValidationFailed(f'Line {number} of {path} has no "text" field.')
        rows.append(row)
    return rows


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score(rows: list[dict[str, Any]], max_errors: int = 0) -> dict[str, Any]:
    """Field-level P/R/F1 (micro and per field) and whole-line accuracy of ``parse_line`` on ``rows``."""
    counts = {f: [0, 0, 0] for f in FIELDS}  # tp, fp, fn
    exact = 0
    errors: list[dict[str, Any]] = []
    for row in rows:
        med = parse_line(row["text"])
        predicted = med.model_dump() if med is not None else {}
        line_ok = True
        for field in FIELDS:
            gold = normalise(field, row.get(field))
            pred = normalise(field, predicted.get(field))
            if gold is not None and pred == gold:
                counts[field][0] += 1
            else:
                if pred is not None:
                    counts[field][1] += 1
                if gold is not None:
                    counts[field][2] += 1
            line_ok = line_ok and gold == pred
        exact += line_ok
        if not line_ok and len(errors) < max_errors:
            errors.append(
                {
                    "text": row["text"],
                    "gold": {f: row.get(f) for f in FIELDS},
                    "pred": {f: predicted.get(f) for f in FIELDS},
                }
            )
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    result: dict[str, Any] = {"lines": len(rows), "micro": _prf(tp, fp, fn)}
    result["per_field"] = {f: _prf(*c) for f, c in counts.items()}
    result["line_accuracy"] = round(exact / len(rows), 4) if rows else 0.0
    if max_errors:
        result["errors"] = errors
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Score ``parse_line`` on the gold file given with ``--gold``."""
    return score(load_gold(args.gold), args.errors)
