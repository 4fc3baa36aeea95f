"""The scribe end to end: whole ACI-Bench consultations spoken, heard and drafted by the app's own pipeline.

``python -m backend eval scribe --aci CSV --n N [--first K] --audio-dir DIR [--model M] [--json]``
``python -m backend eval scribe --mts CSV [--section S] --n N [--first K] --audio-dir DIR`` (MTS-Dialog: each
dialogue is a short consultation, its reference the section text; rows are counted after ``--section``)

For N consultations of CSV from row K (default 0: the first N), ``DIR/aci_NN.wav`` is the whole dialogue spoken by espeak-ng (every
turn; doctor and patient in the two voices of ``backend.evals.asr.VOICES``; 0.35 s between turns) and
``DIR/aci_NN.json`` its sidecar: ``{"turns": [{"tag", "role", "start", "end", "text"}], "note", "dialogue",
"seconds", "source": {"file", "row"}}``. Missing pairs are synthesised first; existing ones are reused.

Each consultation then goes through what the app runs on a recording — ``heard_from_audio`` (PyAV decode,
the transcriber the settings choose, speaker roles) and ``report`` (drug-name recovery, the offline drafter
``draft_note``) — and the same drafter runs on the spoken turns as text, with their ``[doctor]`` /
``[patient]`` tags (``tagged_text``) and without (``untagged_text``). Printed, per consultation and overall:

- ``rouge``: ROUGE-1/2/L/Lsum F1 x 100 of each path's note against the reference note (as ``eval notes``),
  mean over consultations.
- ``drugs``: precision and recall of the drug names of each path's medication list against the generic
  names ``extract_mentions`` finds in the reference note (sets per consultation, micro-averaged).
- ``role_accuracy``: share of transcript words whose role (clinician / patient / other) is the role of the
  reference turn they align to (normalised words of the whole transcript aligned with the reference words;
  inserted words align to no turn and are left out; a word with no role counts as wrong).
- ``wer`` (the ``eval asr`` normaliser, over all words), ``rtf`` (decode + transcribe + roles, per second of
  audio) and ``audio_to_draft_seconds`` (bytes to finished draft, per consultation).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jiwer

from backend.evals.asr import Speak, SpokenTurn, normalise, speak_espeak, speak_turns, wer, write_wav
from backend.evals.notes import _METRICS, _lines, read_mts_rows, read_rows

PATHS = ("audio", "tagged_text", "untagged_text")
_ROLE_OF_TAG = {"doctor": "clinician", "patient": "patient"}


def turn_role(tag: str) -> str:
    """The app's role for an ACI-Bench tag: doctor -> clinician, patient -> patient, anyone else -> other."""
    return _ROLE_OF_TAG.get(tag, "other")


# --- the spoken consultations and their sidecars -------------------------------------------------


def sidecar(turns: Sequence[SpokenTurn], row: dict[str, str], source: dict[str, Any]) -> dict[str, Any]:
    """The JSON written beside a synthesised consultation: turns with times and roles, and the reference note."""
    return {
        "turns": [{**asdict(t), "role": turn_role(t.tag)} for t in turns],
        "note": row["note"],
        "dialogue": row["dialogue"],
        "seconds": round(turns[-1].end, 4) if turns else 0.0,
        "source": source,
    }


# MTS-Dialog's speakers ("Doctor", "Doctor_2", "Patient", "Guest_family_1", "Guest_clinician", and misspellings
# of them) as the tags of ACI-Bench: a visiting clinician is a clinician, family speak in the third voice.
_MTS_SPEAKER = re.compile(r"^\s*(?P<who>[A-Za-z]+(?:_[A-Za-z]+)?)(?:_?\d+)?\s*:\s*(?P<said>.*)$")
_MTS_TAG = {"doctor": "doctor", "docotr": "doctor", "patient": "patient"}


def mts_tagged(dialogue: str) -> str:
    """An MTS-Dialog dialogue ("Doctor: ...", "Patient: ...") as ACI-Bench's "[doctor] ..." lines; a line
    that names no speaker goes on with the turn before it."""
    lines = []
    for line in dialogue.splitlines():
        m = _MTS_SPEAKER.match(line)
        who = m.group("who").lower() if m else ""
        if m and (who in _MTS_TAG or who.startswith(("guest", "gest"))):
            clinician = who.endswith(("clinician", "clinican"))
            tag = "doctor" if clinician else _MTS_TAG.get(who, "patient_guest")
            lines.append(f"[{tag}] {m.group('said')}")
        elif line.strip():
            lines.append(line.strip())
    return "\n".join(lines)


def synthesise(
    csv_path: Path,
    out_dir: Path,
    n: int,
    speak: Speak = speak_espeak,
    first: int = 0,
    mts_section: str | None = None,
    mts: bool = False,
) -> list[Path]:
    """``aci_NN.wav`` + ``aci_NN.json`` (NN the row) for ``n`` consultations from row ``first``; pairs already
    there are kept. With ``mts`` the CSV is MTS-Dialog's (rows of ``mts_section`` only, when given): the
    files are ``mts_NNN``, the dialogue is spoken as :func:`mts_tagged` writes it and the note is the section.

    Raises:
        SystemExit: a sidecar in ``out_dir`` was made from another file, section or row.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if mts:
        rows = [{**r, "dialogue": mts_tagged(r["dialogue"])} for r in read_mts_rows(csv_path, first + n, mts_section)]
    else:
        rows = read_rows(csv_path, first + n)
    wavs = []
    for i, row in enumerate(rows[first:], start=first):
        name = f"mts_{i:03d}" if mts else f"aci_{i:02d}"
        wav, side = out_dir / f"{name}.wav", out_dir / f"{name}.json"
        source: dict[str, Any] = {"file": csv_path.name, "row": i}
        if mts and mts_section:
            source["section"] = mts_section.upper()
        if wav.is_file() and side.is_file():
            made_from = json.loads(side.read_text(encoding="utf-8")).get("source", source)
            if made_from != source:
                raise SystemExit(f"{side} was made from {made_from}, not {source}: use another --audio-dir")
        else:
            samples, turns = speak_turns(row["dialogue"], speak=speak)
            write_wav(samples, wav)
            side.write_text(json.dumps(sidecar(turns, row, source)), encoding="utf-8")
        wavs.append(wav)
    return wavs


# --- pure metrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleScore:
    """Words whose role matches the reference turn they align to, out of the words aligned to a turn."""

    correct: int
    aligned: int
    inserted: int  # transcript words aligned to no reference word (left out of the score)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.aligned if self.aligned else None


def role_words(pieces: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(normalised word, role) for every word of (text, role) pieces, in order."""
    return [(word, role) for text, role in pieces for word in normalise(text).split()]


def role_score(reference: Sequence[tuple[str, str]], hypothesis: Sequence[tuple[str, str]]) -> RoleScore:
    """Word-level role accuracy of a transcript against the reference turns (both as (word, role) lists).

    The word sequences are aligned by edit distance (jiwer); a matched or substituted transcript word is
    compared with the role of the reference word it stands for.
    """
    if not reference or not hypothesis:
        return RoleScore(0, 0, len(hypothesis))
    ref_words, hyp_words = " ".join(w for w, _ in reference), " ".join(w for w, _ in hypothesis)
    correct = aligned = inserted = 0
    for chunk in jiwer.process_words(ref_words, hyp_words).alignments[0]:
        if chunk.type == "insert":
            inserted += chunk.hyp_end_idx - chunk.hyp_start_idx
        elif chunk.type in ("equal", "substitute"):
            ref_roles = [role for _, role in reference[chunk.ref_start_idx : chunk.ref_end_idx]]
            hyp_roles = [role for _, role in hypothesis[chunk.hyp_start_idx : chunk.hyp_end_idx]]
            aligned += len(hyp_roles)
            correct += sum(r == h for r, h in zip(ref_roles, hyp_roles, strict=True))
    return RoleScore(correct, aligned, inserted)


def reference_drugs(note: str) -> set[str]:
    """Generic names (lower-case) of the drugs a reference note mentions."""
    from backend.domain.medications import extract_mentions

    return {m.medication.name.lower() for m in extract_mentions(note)}


@dataclass(frozen=True)
class DrugCounts:
    """Drug names of one or more consultations: found by the scribe, in the reference, and in both."""

    found: int
    reference: int
    correct: int

    def __add__(self, other: DrugCounts) -> DrugCounts:
        return DrugCounts(self.found + other.found, self.reference + other.reference, self.correct + other.correct)

    @property
    def precision(self) -> float | None:
        return self.correct / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.reference if self.reference else None


def drug_counts(reference: set[str], found: set[str]) -> DrugCounts:
    """Set overlap of one consultation's drug names (compare lower-case generic names)."""
    return DrugCounts(len(found), len(reference), len(found & reference))


# --- one consultation through the pipeline -------------------------------------------------------


def _score_path(out: dict[str, Any], reference_note: str, scorer: Any) -> dict[str, Any]:
    scores = scorer.score(_lines(reference_note), _lines(out["note_text"]))
    return {
        "rouge": {m: 100.0 * scores[m].fmeasure for m in _METRICS},
        "drugs_found": {m["name"].lower() for m in out["medications"]},
    }


def score_consultation(wav: Path, transcriber: Any, drafter: Any, scorer: Any) -> dict[str, Any]:
    """Run one spoken consultation through audio and both text paths; its figures (sets kept for totals)."""
    from backend.adapters.audio.pyav_codec import PyAvCodec
    from backend.adapters.speech.whisper_language import recording_warnings
    from backend.services.draft_report import heard_from_audio, heard_from_text, report

    side = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    turns = side["turns"]
    started = time.perf_counter()
    heard, warnings, seconds = heard_from_audio(wav.read_bytes(), PyAvCodec(), transcriber, recording_warnings)
    heard_at = time.perf_counter()
    outputs = {"audio": report(heard, drafter, warnings)}
    done_at = time.perf_counter()
    outputs["tagged_text"] = report(heard_from_text("\n".join(f"[{t['tag']}] {t['text']}" for t in turns)), drafter)
    untagged = heard_from_text("\n".join(t["text"] for t in turns))
    outputs["untagged_text"] = report(untagged, drafter)

    reference = role_words((t["text"], t.get("role") or turn_role(t["tag"])) for t in turns)
    roles = {
        "audio": role_score(reference, role_words((s.text, s.speaker or "unknown") for s in heard.segments)),
        "untagged_text": role_score(reference, role_words((s.text, s.speaker or "unknown") for s in untagged.segments)),
    }
    ref_text = " ".join(t["text"] for t in turns)
    hyp_text = " ".join(s.text for s in heard.segments)
    ref_drugs = reference_drugs(side["note"])
    paths = {name: _score_path(out, side["note"], scorer) for name, out in outputs.items()}
    return {
        "file": wav.name,
        "seconds": round(seconds, 1),
        "wer": round(wer(ref_text, hyp_text), 4),
        "rtf": round((heard_at - started) / seconds, 3) if seconds else None,
        "audio_to_draft_seconds": round(done_at - started, 2),
        "role_accuracy": {k: _round(v.accuracy) for k, v in roles.items()},
        "rouge": {k: {m: round(v, 2) for m, v in p["rouge"].items()} for k, p in paths.items()},
        "drugs_reference": sorted(ref_drugs),
        "drugs_found": {k: sorted(p["drugs_found"]) for k, p in paths.items()},
        "warnings": outputs["audio"]["warnings"],
        "_roles": roles,
        "_drugs": {k: drug_counts(ref_drugs, p["drugs_found"]) for k, p in paths.items()},
        "_words": (normalise(ref_text), normalise(hyp_text)),
        "_processing": done_at - started,
        "_audio_report": outputs["audio"],
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# --- the command ----------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--aci", type=Path, help="ACI-Bench CSV with `dialogue` and `note` columns")
    source.add_argument("--mts", type=Path, help="MTS-Dialog CSV: each dialogue against its section text")
    parser.add_argument("--section", help="with --mts: only this section's rows (e.g. MEDICATIONS)")
    parser.add_argument("--n", type=int, default=8, help="how many consultations (N rows from --first)")
    parser.add_argument("--first", type=int, default=0, help="the first row to take (0: the first N rows)")
    parser.add_argument("--audio-dir", type=Path, required=True, help="where aci_NN / mts_NNN .wav + .json are (made)")
    parser.add_argument("--model", help="Whisper model folder (default: COPILOT_WHISPER_MODEL or provisioned)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="write what the audio path gave (transcript, note, medications as found) to <audio-dir>/<name>.draft.json",
    )


def keep_draft(wav: Path, row: dict[str, Any]) -> Path:
    """The audio path's report of one consultation, with its reference words, beside its recording: what was
    heard and drafted can be read against what was said when a figure moves."""
    ref_words, hyp_words = row["_words"]
    kept = {**row["_audio_report"], "reference_words": ref_words, "heard_words": hyp_words}
    path = wav.with_suffix(".draft.json")
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def _transcriber(model: str | None) -> tuple[Any, str | None, float]:
    """The speech engine the app would build from the settings (``--model`` replaces the Whisper model)."""
    from backend.bootstrap import build_transcriber
    from backend.config import Settings

    started = time.perf_counter()
    loaded = build_transcriber(Settings(whisper_model=model) if model else Settings())
    return loaded.transcriber, loaded.fallback_reason, time.perf_counter() - started


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Overall figures of scored consultations (ROUGE averaged, counts summed, WER over all words)."""
    n = max(len(rows), 1)
    audio_s = sum(r["seconds"] for r in rows)
    drugs = {p: sum((r["_drugs"][p] for r in rows), DrugCounts(0, 0, 0)) for p in PATHS}
    roles = {
        p: RoleScore(*(sum(getattr(r["_roles"][p], f) for r in rows) for f in ("correct", "aligned", "inserted")))
        for p in ("audio", "untagged_text")
    }
    refs, hyps = zip(*(r["_words"] for r in rows), strict=True) if rows else ((), ())
    return {
        "consultations": len(rows),
        "audio_minutes": round(audio_s / 60, 1),
        "rouge": {p: {m: round(sum(r["rouge"][p][m] for r in rows) / n, 2) for m in _METRICS} for p in PATHS},
        "drugs": {
            p: {
                "precision": _round(d.precision),
                "recall": _round(d.recall),
                "found": d.found,
                "reference": d.reference,
                "correct": d.correct,
            }
            for p, d in drugs.items()
        },
        "role_accuracy": {p: _round(s.accuracy) for p, s in roles.items()},
        "wer": round(float(jiwer.wer([r or "<empty>" for r in refs], list(hyps))), 4) if rows else None,
        "rtf": round(sum(r["rtf"] * r["seconds"] for r in rows) / audio_s, 3) if audio_s else None,
        "audio_to_draft_seconds": {
            "mean": round(sum(r["audio_to_draft_seconds"] for r in rows) / n, 1),
            "max": max((r["audio_to_draft_seconds"] for r in rows), default=0.0),
        },
    }


def _print_rows(rows: Sequence[dict[str, Any]]) -> None:
    print(
        f"{'file':<11}{'min':>5}{'wer':>7}{'roles':>7}{'rtf':>6}{'draft_s':>8}   R1 audio/tag/untag   drugs ref/found/ok"
    )
    for r in rows:
        r1 = "/".join(f"{r['rouge'][p]['rouge1']:.1f}" for p in PATHS)
        d = r["_drugs"]["audio"]
        roles = r["role_accuracy"]["audio"]
        print(
            f"{r['file']:<11}{r['seconds'] / 60:>5.1f}{r['wer']:>7.3f}{'-' if roles is None else f'{roles:.2f}':>7}"
            f"{r['rtf']:>6.2f}{r['audio_to_draft_seconds']:>8.1f}   {r1:<20} {d.reference}/{d.found}/{d.correct}"
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rouge_score import rouge_scorer  # only the evals need it

    from backend.domain.drafting import draft_note

    if args.section and not args.mts:
        raise SystemExit("--section chooses MTS-Dialog rows: give it with --mts, not --aci")
    csv_path = args.aci or args.mts
    first = getattr(args, "first", 0)
    wavs = synthesise(csv_path, args.audio_dir, args.n, first=first, mts_section=args.section, mts=bool(args.mts))
    transcriber, fallback_reason, load_s = _transcriber(args.model)
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    rows = [score_consultation(wav, transcriber, draft_note, scorer) for wav in wavs]
    if getattr(args, "keep", False):
        for wav, row in zip(wavs, rows, strict=True):
            keep_draft(wav, row)
    _print_rows(rows)
    return {
        "file": csv_path.name,
        "engine": getattr(transcriber, "name", type(transcriber).__name__),
        "engine_fallback": fallback_reason,
        **totals(rows),
        "model_load_seconds": round(load_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "per_consultation": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    }
