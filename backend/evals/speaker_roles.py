"""Speaker-role accuracy: who said what, word by word, against tagged consultations.

Audio mode: each folder holds ``NAME.wav`` (16 kHz mono), ``NAME.whisper.json`` ({"segments": [{start, end, text,
words: [{start, end, text}]}]}: what the recogniser heard) and ``NAME.json`` ({"turns": [{tag, start, end}]}: who
really spoke when). A word's true role is the tag of the turn whose span holds the word's midpoint (doctor ->
clinician, patient -> patient, anything else -> other); words in no turn are not scored.

Wording mode (``--wording CSV``): ACI-Bench dialogues with their tags removed, one turn per line; turn accuracy.

With ``--words-from-turns`` the input words are timed from the true turns instead (recordings not transcribed yet:
this tests the acoustics and the naming, not the recogniser's word times).

Usage: ``python -m backend.evals.speaker_roles DIR [DIR ...]`` or ``... --wording FILE.csv [...]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path
from typing import Any

from backend.adapters.audio.decode import SAMPLE_RATE, decode_audio
from backend.domain.models import Segment, Word
from backend.domain.speakers import assign_roles, roles_from_wording
from backend.evals.asr import _clean_turn

ROLE_OF_TAG = {"doctor": "clinician", "patient": "patient"}
_TURN = re.compile(r"^\[(\w+)\]\s*(.*)$")


def load_segments(path: Path) -> list[Segment]:
    """Segments with words from a recogniser's JSON output."""
    data = json.loads(path.read_text())
    return [
        Segment(
            id=i,
            start=float(s["start"]),
            end=float(s["end"]),
            text=str(s["text"]),
            words=[Word(start=float(w["start"]), end=float(w["end"]), text=str(w["text"])) for w in s.get("words", [])],
        )
        for i, s in enumerate(data["segments"])
    ]


def segments_from_turns(turns: list[dict[str, Any]], segment_s: float = 20.0) -> list[Segment]:
    """Recogniser-like segments built from the true turns: each turn's words spread over its span by length,
    grouped into segments of about ``segment_s`` that cross turns (for recordings not yet transcribed)."""
    words: list[Word] = []
    for turn in turns:
        tokens = str(turn["text"]).split()
        a, b = float(turn["start"]), float(turn["end"])
        total = sum(len(t) + 1 for t in tokens) or 1
        at = a
        for tok in tokens:
            step = (b - a) * (len(tok) + 1) / total
            words.append(Word(start=at, end=at + step, text=f" {tok}"))
            at += step
    segments: list[Segment] = []
    run: list[Word] = []
    for w in words:
        run.append(w)
        if w.end - run[0].start >= segment_s and w.text.rstrip()[-1:] in ".?!":
            segments.append(_segment(len(segments), run))
            run = []
    if run:
        segments.append(_segment(len(segments), run))
    return segments


def _segment(i: int, words: list[Word]) -> Segment:
    text = " ".join(w.text.strip() for w in words)
    return Segment(id=i, start=words[0].start, end=words[-1].end, text=text, words=words)


def true_role(turns: list[dict[str, Any]], t: float) -> str | None:
    """Role of whoever was speaking at time ``t`` (None between turns)."""
    for turn in turns:
        if float(turn["start"]) <= t <= float(turn["end"]):
            return ROLE_OF_TAG.get(str(turn["tag"]), "other")
    return None


def score_recording(wav: Path, words_from_turns: bool = False) -> dict[str, Any]:
    """Word-level role accuracy of one recording, with timing and warnings."""
    samples = decode_audio(wav.read_bytes())
    turns = json.loads(wav.with_suffix(".json").read_text())["turns"]
    heard = wav.with_suffix(".whisper.json")
    segments = segments_from_turns(turns) if words_from_turns else load_segments(heard)
    t0 = time.process_time()  # CPU time: the machine may be busy with other work
    result = assign_roles(samples, segments)
    seconds = time.process_time() - t0
    right = total = 0
    for seg in result.segments:
        for w in seg.words or []:
            truth = true_role(turns, (w.start + w.end) / 2)
            if truth is not None:
                total += 1
                right += int(truth == seg.speaker)
    return {
        "recording": wav.stem,
        "accuracy": right / total if total else 0.0,
        "words": total,
        "voices": result.voices,
        "warnings": result.warnings,
        "seconds": round(seconds, 2),
        "audio_seconds": round(samples.size / SAMPLE_RATE, 1),
    }


def score_wording(csv_path: Path) -> dict[str, Any]:
    """Turn accuracy of :func:`roles_from_wording` on tagged dialogues with the tags hidden."""
    right = total = 0
    with csv_path.open(newline="") as f:
        for row in csv.DictReader(f):
            turns = [m.groups() for line in row["dialogue"].splitlines() if (m := _TURN.match(line.strip()))]
            segs = [Segment(id=i, start=0.0, end=0.0, text=_clean_turn(text)) for i, (_, text) in enumerate(turns)]
            got = roles_from_wording(segs).segments
            for (tag, _), seg in zip(turns, got, strict=True):
                total += 1
                right += int(ROLE_OF_TAG.get(tag, "other") == seg.speaker)
    return {"file": csv_path.name, "turn_accuracy": right / total if total else 0.0, "turns": total}


def main(argv: list[str] | None = None) -> None:
    """Print per-recording and per-folder figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="folders of recordings, or CSV files with --wording")
    parser.add_argument("--wording", action="store_true", help="score roles from wording on ACI-Bench CSV files")
    parser.add_argument(
        "--words-from-turns", action="store_true", help="input words timed from the true turns, not a recogniser"
    )
    args = parser.parse_args(argv)
    for path in args.paths:
        if args.wording:
            print(json.dumps(score_wording(path)))
            continue
        wavs = sorted(path.glob("*.wav"))
        if not args.words_from_turns:
            wavs = [w for w in wavs if w.with_suffix(".whisper.json").exists()]
        rows = [score_recording(wav, args.words_from_turns) for wav in wavs]
        for r in rows:
            print(json.dumps(r))
        words = sum(r["words"] for r in rows)
        acc = sum(r["accuracy"] * r["words"] for r in rows) / words if words else 0.0
        cost = sum(r["seconds"] for r in rows) / max(1e-9, sum(r["audio_seconds"] for r in rows))
        print(
            json.dumps(
                {
                    "folder": path.name,
                    "recordings": len(rows),
                    "word_accuracy": round(acc, 4),
                    "mean_recording_accuracy": round(sum(r["accuracy"] for r in rows) / max(1, len(rows)), 4),
                    "seconds_per_audio_second": round(cost, 4),
                }
            )
        )


if __name__ == "__main__":
    main()
