"""Note drafting: ROUGE of the offline drafter's notes against ACI-Bench reference notes (and the copy baseline)."""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path
from typing import Any

from backend.domain.drafting import draft_note, render_note_text
from backend.domain.errors import ValidationFailed
from backend.domain.models import Segment

_TURN = re.compile(r"^\s*\[(?P<speaker>[^\]]+)\]\s*(?P<text>.*)$")
_METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
WORDS_PER_SECOND = 2.5  # synthetic segment times: a steady speaking rate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aci", required=True, type=Path, help="ACI-Bench CSV with `dialogue` and `note` columns")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N rows")
    parser.add_argument("--show", type=int, default=None, help="print the draft of row N (0-based) and exit")


def dialogue_to_segments(dialogue: str) -> list[Segment]:
    """One segment per "[speaker] text" turn, with synthetic times; untagged lines continue the previous turn."""
    segments: list[Segment] = []
    clock = 0.0
    for line in dialogue.splitlines():
        if not line.strip():
            continue
        m = _TURN.match(line)
        if m is None and segments:
            segments[-1].text += " " + line.strip()
            continue
        speaker, text = (m.group("speaker").strip(), m.group("text").strip()) if m else (None, line.strip())
        duration = max(len(text.split()), 1) / WORDS_PER_SECOND
        segments.append(Segment(id=len(segments), start=round(clock, 2), end=round(clock + duration, 2),
                                text=text, speaker=speaker))  # fmt: skip
        clock += duration
    return segments


def read_rows(path: Path, limit: int | None) -> list[dict[str, str]]:
    """Rows of an ACI-Bench CSV; names the missing column when the file is of another kind."""
    if not path.is_file():
        raise ValidationFailed(f"{path} does not exist — pass an ACI-Bench CSV (e.g. valid.csv) to --aci.")
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"dialogue", "note"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationFailed(f"{path.name} has no column {', '.join(sorted(missing))} — is it an ACI-Bench CSV?")
        rows = list(reader)
    return rows[:limit] if limit else rows


def _lines(text: str) -> str:
    """One sentence per line, for rougeLsum (which splits on newlines; NLTK's splitter is not available offline)."""
    return "\n".join(s for s in re.split(r"(?<=[.?!])\s+|\n+", text) if s.strip())


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rouge_score import rouge_scorer  # only the eval needs it

    rows = read_rows(args.aci, args.limit)
    if args.show is not None:
        draft = draft_note(dialogue_to_segments(rows[args.show]["dialogue"]))
        print(render_note_text(draft))
        return {"row": args.show, "sentences": len(draft.sentences)}
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    totals = {"drafter": dict.fromkeys(_METRICS, 0.0), "copy_baseline": dict.fromkeys(_METRICS, 0.0)}
    draft_seconds = 0.0
    words = 0
    for row in rows:
        started = time.perf_counter()
        note = render_note_text(draft_note(dialogue_to_segments(row["dialogue"])))
        draft_seconds += time.perf_counter() - started
        words += len(note.split())
        reference = _lines(row["note"])
        for name, hypothesis in (("drafter", _lines(note)), ("copy_baseline", _lines(row["dialogue"]))):
            scores = scorer.score(reference, hypothesis)
            for metric in _METRICS:
                totals[name][metric] += 100.0 * scores[metric].fmeasure
    n = max(len(rows), 1)
    result: dict[str, Any] = {"rows": len(rows), "file": args.aci.name}
    for name, sums in totals.items():
        result[name] = {metric: round(value / n, 2) for metric, value in sums.items()}
    result["mean_words_draft"] = round(words / n, 1)
    result["mean_words_reference"] = round(sum(len(r["note"].split()) for r in rows) / n, 1)
    result["draft_seconds_per_row"] = round(draft_seconds / n, 4)
    return result
