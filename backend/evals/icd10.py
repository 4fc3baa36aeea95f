"""``python -m backend.evals.icd10``: ICD-10 suggestions against hand-labelled ACI-Bench diagnoses, by threshold.

For each split and fuzzy threshold: how many diagnoses got an acceptable code (correct), a code no coder
would accept (wrong), or none. The threshold in ``backend.domain.icd10`` is the lowest with no wrong code on
train; valid is the check.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from backend.domain import icd10

GOLD = Path(__file__).resolve().parents[2] / "tests" / "data" / "icd10_aci_gold.toml"
THRESHOLDS = (70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 100.0)


def score(gold: dict[str, list[str]], threshold: float) -> dict[str, int]:
    """Counts of correct, wrong and uncoded diagnoses of one split at one threshold."""
    counts = {"correct": 0, "wrong": 0, "none": 0, "total": len(gold)}
    for phrase, accepted in gold.items():
        found = icd10.suggest(phrase, threshold=threshold)
        if found is None:
            counts["none"] += 1
        elif found.code in accepted:
            counts["correct"] += 1
        else:
            counts["wrong"] += 1
    return counts


def main() -> int:
    splits = tomllib.loads(GOLD.read_text(encoding="utf-8"))
    print("split  threshold  correct  wrong  none  total  precision  coverage")
    for split, gold in splits.items():
        for t in THRESHOLDS:
            c = score(gold, t)
            coded = c["correct"] + c["wrong"]
            precision = c["correct"] / coded if coded else 1.0
            mark = "  <- in use" if t == icd10.FUZZY_THRESHOLD else ""
            print(
                f"{split:6} {t:9.0f} {c['correct']:8} {c['wrong']:6} {c['none']:5} {c['total']:6} "
                f"{precision:10.1%} {c['correct'] / c['total']:9.1%}{mark}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
