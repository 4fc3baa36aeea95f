"""Note drafting: ROUGE and length of the offline drafter's notes, in a style, against clinicians' notes.

ACI-Bench (``--aci``): whole consultations and their full notes. MTS-Dialog (``--mts``): short dialogues, each
with one section of the clinician's note (``section_header``/``section_text``; the rows are separate encounters,
so each draft is scored against its row's section; ``--section GENHX`` keeps the history sections only).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path
from typing import Any

from backend.domain.drafting import draft_note, render_note_text
from backend.domain.drafting.styles import FULL, render_style
from backend.domain.drafting.templates import NoteTemplate, builtin_templates, load_template_file
from backend.domain.errors import ValidationFailed
from backend.domain.models import Segment
from backend.domain.note_content import NoteContent

_TURN = re.compile(r"^\s*\[(?P<speaker>[^\]]+)\]\s*(?P<text>.*)$")
_MTS_TURN = re.compile(r"^\s*(?P<speaker>[A-Za-z][\w ]{0,30}?)\s*:\s*(?P<text>.*)$")
_METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
WORDS_PER_SECOND = 2.5  # synthetic segment times: a steady speaking rate
# The SOAP part each MTS-Dialog section belongs to; "OTHER_HISTORY" and the like are history too.
MTS_SOAP = {
    "EXAM": "objective", "LABS": "objective", "IMAGING": "objective", "PROCEDURES": "objective",
    "ASSESSMENT": "assessment", "DIAGNOSIS": "assessment",
    "PLAN": "plan", "DISPOSITION": "plan", "EDCOURSE": "plan",
}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--aci", type=Path, help="ACI-Bench CSV with `dialogue` and `note` columns")
    data.add_argument("--mts", type=Path, help="MTS-Dialog CSV with `dialogue`, `section_header`, `section_text`")
    parser.add_argument("--section", default=None, help="MTS-Dialog: score only rows of this section (e.g. GENHX)")
    parser.add_argument("--style", default=FULL, help="note style: full (SOAP, default) or a built-in template name")
    parser.add_argument("--template", type=Path, default=None, help="score a clinic's template file instead")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N rows")
    parser.add_argument("--show", type=int, default=None, help="print the draft of row N (0-based) and exit")


def dialogue_to_segments(dialogue: str, turn: re.Pattern[str] = _TURN) -> list[Segment]:
    """One segment per "[speaker] text" turn, with synthetic times; untagged lines continue the previous turn."""
    segments: list[Segment] = []
    clock = 0.0
    for line in dialogue.splitlines():
        if not line.strip():
            continue
        m = turn.match(line)
        if m is None and segments:
            segments[-1].text += " " + line.strip()
            continue
        speaker, text = (m.group("speaker").strip(), m.group("text").strip()) if m else (None, line.strip())
        duration = max(len(text.split()), 1) / WORDS_PER_SECOND
        segments.append(Segment(id=len(segments), start=round(clock, 2), end=round(clock + duration, 2),
                                text=text, speaker=speaker))  # fmt: skip
        clock += duration
    return segments


def mts_dialogue_to_segments(dialogue: str) -> list[Segment]:
    """MTS-Dialog's "Doctor: ..." / "Patient: ..." / "Guest_family: ..." turns as segments (as ACI-Bench's)."""
    return dialogue_to_segments(dialogue, _MTS_TURN)


def _read_csv(path: Path, columns: set[str], kind: str, option: str) -> list[dict[str, str]]:
    if not path.is_file():
        raise ValidationFailed(f"{path} does not exist — pass an {kind} CSV to {option}.")
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = columns - set(reader.fieldnames or [])
        if missing:
            raise ValidationFailed(f"{path.name} has no column {', '.join(sorted(missing))} — is it an {kind} CSV?")
        return list(reader)


def read_rows(path: Path, limit: int | None) -> list[dict[str, str]]:
    """Rows of an ACI-Bench CSV; names the missing column when the file is of another kind."""
    rows = _read_csv(path, {"dialogue", "note"}, "ACI-Bench", "--aci (e.g. valid.csv)")
    return rows[:limit] if limit else rows


def read_mts_rows(path: Path, limit: int | None, section: str | None = None) -> list[dict[str, str]]:
    """Rows of an MTS-Dialog CSV as ``{"dialogue", "note"}`` (the note is the row's section text)."""
    rows = _read_csv(path, {"dialogue", "section_header", "section_text"}, "MTS-Dialog", "--mts")
    if section:
        rows = [r for r in rows if r["section_header"].strip().upper() == section.strip().upper()]
    out = [{"dialogue": r["dialogue"], "note": r["section_text"], "section": r["section_header"]} for r in rows]
    return out[:limit] if limit else out


def _template(args: argparse.Namespace) -> tuple[str, dict[str, NoteTemplate]]:
    templates = dict(builtin_templates())
    path = getattr(args, "template", None)
    if path is not None:
        template = load_template_file(path)
        templates[template.name] = template
        return template.name, templates
    style = getattr(args, "style", FULL) or FULL
    if style != FULL and style not in templates:
        raise ValidationFailed(f"No note style {style!r}; choose one of: {', '.join([FULL, *sorted(templates)])}.")
    return style, templates


def draft_text(segments: list[Segment], style: str, templates: dict[str, NoteTemplate]) -> str:
    """The offline draft of ``segments`` as text in ``style`` (``full`` is today's SOAP note, unchanged)."""
    return _render(draft_note(segments), segments, style, templates)


def _render(draft: NoteContent, segments: list[Segment], style: str, templates: dict[str, NoteTemplate]) -> str:
    if style == FULL:
        return render_note_text(draft)
    return render_style(draft, style, templates, sum(len(s.text.split()) for s in segments)).text


def section_placement(draft: NoteContent, header: str) -> float | None:
    """Share of the draft's words in the SOAP part that MTS-Dialog's section ``header`` belongs to.

    The chief complaint is left out (it is always subjective). None when the draft has no sentence.
    """
    expected = MTS_SOAP.get(header.strip().upper(), "subjective")
    counted = [(s.section, len(s.text.split())) for s in draft.sentences if s.kind != "chief_complaint"]
    total = sum(n for _, n in counted)
    return sum(n for sec, n in counted if sec == expected) / total if total else None


def _lines(text: str) -> str:
    """One sentence per line, for rougeLsum (which splits on newlines; NLTK's splitter is not available offline)."""
    return "\n".join(s for s in re.split(r"(?<=[.?!])\s+|\n+", text) if s.strip())


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rouge_score import rouge_scorer  # only the eval needs it

    mts = getattr(args, "mts", None)
    if mts is not None:
        rows, to_segments = read_mts_rows(mts, args.limit, getattr(args, "section", None)), mts_dialogue_to_segments
    else:
        rows, to_segments = read_rows(args.aci, args.limit), dialogue_to_segments
    style, templates = _template(args)
    if args.show is not None:
        print(draft_text(to_segments(rows[args.show]["dialogue"]), style, templates))
        return {"row": args.show, "style": style}
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    totals = {"drafter": dict.fromkeys(_METRICS, 0.0), "copy_baseline": dict.fromkeys(_METRICS, 0.0)}
    unigram = {"precision": 0.0, "recall": 0.0}  # of the draft's ROUGE-1: a short note is judged by its precision
    draft_seconds = 0.0
    words = 0
    within = 0
    placement: dict[str, list[float]] = {"subjective": [], "other": []}  # MTS-Dialog: by the part expected
    for row in rows:
        started = time.perf_counter()
        segments = to_segments(row["dialogue"])
        draft = draft_note(segments)
        note = _render(draft, segments, style, templates)
        draft_seconds += time.perf_counter() - started
        share = section_placement(draft, row["section"]) if "section" in row else None
        if share is not None:
            expected = MTS_SOAP.get(row["section"].strip().upper(), "subjective")
            placement["subjective" if expected == "subjective" else "other"].append(share)
        words += len(note.split())
        within += len(note.split()) <= 1.5 * len(row["note"].split())
        reference = _lines(row["note"])
        for name, hypothesis in (("drafter", _lines(note)), ("copy_baseline", _lines(row["dialogue"]))):
            scores = scorer.score(reference, hypothesis)
            for metric in _METRICS:
                totals[name][metric] += 100.0 * scores[metric].fmeasure
            if name == "drafter":
                unigram["precision"] += 100.0 * scores["rouge1"].precision
                unigram["recall"] += 100.0 * scores["rouge1"].recall
    n = max(len(rows), 1)
    result: dict[str, Any] = {"rows": len(rows), "file": (mts or args.aci).name, "style": style}
    for name, sums in totals.items():
        result[name] = {metric: round(value / n, 2) for metric, value in sums.items()}
    result["drafter"].update({f"rouge1_{k}": round(v / n, 2) for k, v in unigram.items()})
    result["mean_words_dialogue"] = round(sum(len(r["dialogue"].split()) for r in rows) / n, 1)
    result["mean_words_draft"] = round(words / n, 1)
    result["mean_words_reference"] = round(sum(len(r["note"].split()) for r in rows) / n, 1)
    result["draft_to_reference_length"] = round(words / max(sum(len(r["note"].split()) for r in rows), 1), 2)
    result["share_within_1_5x_reference"] = round(within / n, 2)
    result["draft_seconds_per_row"] = round(draft_seconds / n, 4)
    if mts is not None:
        # Share of the draft's words in the part of the note the row's section belongs to (history rows and
        # exam/assessment/plan rows apart: the latter are few but are where routing is tested).
        result["section_placement"] = {
            part: {"rows": len(v), "share": round(sum(v) / max(len(v), 1), 3)} for part, v in placement.items()
        }
    return result
