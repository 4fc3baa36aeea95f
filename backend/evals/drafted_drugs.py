"""Drug names of the offline draft's medication list against the reference note, on the tagged dialogue text.

Each ACI-Bench consultation goes through what ``python -m backend draft --transcript`` does (one turn per line,
roles from the tags, the drafter) and the generic names of the draft's medications are compared with the drugs the
reference note names (``backend.evals.scribe.reference_drugs``), as sets per consultation, micro-averaged.

Two lists are scored: every medication the draft lists whatever its status ("listed"), and only those it lists
as taken or prescribed ("taking": no status, started or continued; a stopped or declined drug is said in the note
but is not one the patient takes). A drug tried for the complaint that did not help is stopped: the note may name it
("Tylenol failed to improve the headaches") though it is not taken, so ``tried`` counts those drafted and how many
the note names. ``--list`` prints each row's misses and extra names with their status.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from backend.domain.drafting import draft_note
from backend.domain.drafting.drug_context import TRIED
from backend.evals.notes import read_rows
from backend.evals.scribe import DrugCounts, drug_counts, reference_drugs
from backend.services.draft_report import heard_from_text
from backend.services.scribe_pipeline import draft_transcript

_TAG = re.compile(r"\s*\[(doctor|patient|patient_guest|guest_family|guest_clinician)\]\s*")
NOT_TAKEN = frozenset({"stopped", "declined"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval drafted_drugs``."""
    parser.add_argument("--aci", required=True, type=Path, help="ACI-Bench CSV with `dialogue` and `note` columns")
    parser.add_argument("--first", type=int, default=0, help="skip the first N rows")
    parser.add_argument("--n", type=int, default=None, help="score N rows (default: all after --first)")
    parser.add_argument("--list", action="store_true", help="print each row's missed and extra drug names")


def transcript_lines(dialogue: str) -> str:
    """An ACI-Bench dialogue as a transcript file: one tagged turn per line (tags may sit mid-line in the CSV)."""
    return _TAG.sub(lambda m: "\n[" + m.group(1) + "] ", dialogue).strip()


def drafted_medications(dialogue: str) -> list[dict[str, Any]]:
    """The draft's medications (name, status, status_reason, ...) for one tagged dialogue, drafted as
    ``draft --transcript`` does (the same pipeline call; its JSON has no ``status_reason``)."""
    heard = heard_from_text(transcript_lines(dialogue))
    result = draft_transcript(heard.segments, draft_note, heard.recoveries)
    return [m.model_dump() for m in result.content.medications]


def _figures(counts: DrugCounts) -> dict[str, Any]:
    return {
        "precision": None if counts.precision is None else round(counts.precision, 3),
        "recall": None if counts.recall is None else round(counts.recall, 3),
        "drafted": counts.found,
        "reference": counts.reference,
        "correct": counts.correct,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Draft every chosen row and score its medication list's drug names against the note's."""
    end = None if args.n is None else args.first + args.n
    rows = read_rows(args.aci, end)[args.first : end]
    listed = taking = DrugCounts(0, 0, 0)
    tried = tried_in_note = 0
    for index, row in enumerate(rows, start=args.first):
        meds = drafted_medications(row["dialogue"])
        ref = reference_drugs(row["note"])
        names = {m["name"].lower() for m in meds}
        taken = {m["name"].lower() for m in meds if m["status"] not in NOT_TAKEN}
        listed, taking = listed + drug_counts(ref, names), taking + drug_counts(ref, taken)
        failed = {m["name"].lower() for m in meds if (m.get("status_reason") or "").startswith(TRIED)}
        tried, tried_in_note = tried + len(failed), tried_in_note + len(failed & ref)
        if args.list and (names != ref or taken != ref):
            status = {m["name"].lower(): "tried" if m["name"].lower() in failed else m["status"] for m in meds}
            missed = ", ".join(f"{n} ({status[n]})" if n in status else n for n in sorted(ref - taken))
            extra = ", ".join(f"{n} ({status[n] or 'no status'})" for n in sorted(names - ref))
            print(f"row {index}: missed [{missed}]; not in note: [{extra}]")
    return {
        "file": args.aci.name,
        "rows": f"{args.first}-{args.first + len(rows) - 1}",
        "listed": _figures(listed),
        "taking": _figures(taking),
        "tried": {"drafted": tried, "in_note": tried_in_note},
    }
