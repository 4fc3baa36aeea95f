"""NAB score of the streaming anomaly detector (standard, low-FP and low-FN profiles) and two references.

``python -m backend eval anomalies --nab DIR [--out OUT] [--cross-validate] [--json]`` reads NAB's layout:
DIR/data/<category>/<file>.csv (timestamp,value) and DIR/combined_windows.json (or
DIR/labels/combined_windows.json). The detector runs causally on each file; its alarm threshold is
the fixed ``[nab] threshold`` of the metric rules file, never tuned on the files being scored.

The detector's alarm constants (``AlarmParams``) were chosen on a small grid. ``--cross-validate`` says how
much that choice flatters the score: the files are split in two folds (alternating by name); constants are
chosen on one fold and scored on the other, and the held-out scores of both folds are added up.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.domain.anomaly import load_rules
from backend.domain.anomaly.nab import (
    PROFILES,
    normalised,
    perfect_labels,
    probation_length,
    score_file,
    window_indices,
)
from backend.domain.anomaly.streaming import (
    AlarmParams,
    StreamFeatures,
    alarm_scores,
    rolling_zscore_scores,
    stream_features,
    stream_scores,
)
from backend.domain.errors import ValidationFailed

RANDOM_SEED = 42
GRID = tuple(
    AlarmParams(z_half=z, ref_k=k, quiet=q)
    for z in (3.0, 4.0, 5.0, 6.0, 7.0)
    for k in (1.0, 1.25, 1.5, 2.0)
    for q in (0.25, 0.5, 1.0)
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nab", required=True, type=Path, help="NAB folder with data/ and combined_windows.json")
    parser.add_argument("--out", type=Path, default=None, help="write OUT/<category>/<file>.csv with scores and labels")
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also report the 2-fold cross-validated score (alarm constants chosen on the other fold)",
    )


def _windows_file(root: Path) -> Path:
    for candidate in (root / "combined_windows.json", root / "labels" / "combined_windows.json"):
        if candidate.is_file():
            return candidate
    raise ValidationFailed(f"No combined_windows.json in {root} or {root / 'labels'}; point --nab at a NAB folder.")


def load_nab(root: Path) -> list[tuple[str, pd.DataFrame, list[list[str]]]]:
    """(relative name, frame with timestamp/value, windows) for every labelled file that exists."""
    windows = json.loads(_windows_file(root).read_text())
    files = []
    for name in sorted(windows):
        path = root / "data" / name
        if not path.is_file():
            continue
        frame = pd.read_csv(path)
        if not {"timestamp", "value"} <= set(frame.columns):
            raise ValidationFailed(f"{path} needs the columns timestamp,value.")
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        files.append((name, frame, windows[name]))
    if not files:
        raise ValidationFailed(f"None of the files listed in {_windows_file(root)} exist under {root / 'data'}.")
    return files


def _random_same_budget(n: int, budget: int, seed: int) -> np.ndarray:
    """Reference: as many alarms as our detector raised, at random scorable rows (fixed seed)."""
    labels = np.zeros(n, dtype=np.int8)
    first = probation_length(n)
    if budget and n > first:
        rows = np.random.default_rng(seed).choice(np.arange(first, n), size=min(budget, n - first), replace=False)
        labels[rows] = 1
    return labels


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    threshold = load_rules().nab_threshold
    detectors = ("copilot", "rolling_z3", "random_same_budget", "null", "perfect")
    totals = {d: {p: [0.0, 0.0, 0.0] for p in PROFILES} for d in detectors}  # raw, null, perfect
    rows: list[dict[str, Any]] = []
    for k, (name, frame, windows) in enumerate(load_nab(args.nab)):
        values = frame["value"].to_numpy(dtype=float)
        n = values.size
        wins = window_indices(frame["timestamp"].to_numpy(), windows)
        scores = stream_scores(values, probation_length(n))
        labels = (scores >= threshold).astype(np.int8)
        ref_labels = (rolling_zscore_scores(values, window=max(probation_length(n), 10)) >= 0.5).astype(np.int8)
        by_detector = {
            "copilot": labels,
            "rolling_z3": ref_labels,
            "random_same_budget": _random_same_budget(n, int(labels[probation_length(n) :].sum()), RANDOM_SEED + k),
            "null": np.zeros(n, dtype=np.int8),
            "perfect": perfect_labels(n, wins),
        }
        row: dict[str, Any] = {"file": name, "rows": n, "windows": len(wins)}
        for det, lab in by_detector.items():
            for prof_name, prof in PROFILES.items():
                fs = score_file(lab, wins, prof)
                acc = totals[det][prof_name]
                acc[0] += fs.raw
                acc[1] += fs.null
                acc[2] += fs.perfect
                if det == "copilot":
                    row[prof_name] = round(fs.raw, 3)
                    row.update(tp=fs.tp, fp=fs.fp, fn=fs.fn)
        rows.append(row)
        if args.out is not None:
            target = args.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            out = pd.DataFrame(
                {"timestamp": frame["timestamp"], "value": values, "anomaly_score": scores, "label": labels}
            )
            out.to_csv(target, index=False, float_format="%.6g")
    _print_rows(rows)
    scores_by_detector = {det: {p: round(normalised(*totals[det][p]), 2) for p in PROFILES} for det in detectors}
    extra: dict[str, Any] = {}
    if getattr(args, "cross_validate", False):
        extra["cross_validated"] = cross_validate(load_nab(args.nab), threshold)
        _print_cross_validation(extra["cross_validated"])
    return {
        **extra,
        "files": len(rows),
        "windows": sum(r["windows"] for r in rows),
        "threshold": threshold,
        "score": scores_by_detector,
        "copilot_tp_fp_fn": [sum(r["tp"] for r in rows), sum(r["fp"] for r in rows), sum(r["fn"] for r in rows)],
        "seconds": round(time.perf_counter() - started, 2),
        "per_file": rows,
    }


def _print_rows(rows: list[dict[str, Any]]) -> None:
    """Per-file raw scores of our detector (NAB normalises only the totals)."""
    print(
        f"{'file':60} {'rows':>6} {'win':>3} {'tp':>3} {'fp':>3} {'fn':>3} {'standard':>9} {'low_FP':>8} {'low_FN':>8}"
    )
    for r in rows:
        print(
            f"{r['file']:60} {r['rows']:6d} {r['windows']:3d} {r['tp']:3d} {r['fp']:3d} {r['fn']:3d} "
            f"{r['standard']:9.3f} {r['reward_low_FP_rate']:8.3f} {r['reward_low_FN_rate']:8.3f}"
        )


FoldScores = list[dict[str, tuple[float, float, float]]]  # per file: profile -> (raw, null, perfect)


def _scores_for(features: StreamFeatures, wins: list[tuple[int, int]], params: AlarmParams, threshold: float) -> dict:
    labels = (alarm_scores(features, params) >= threshold).astype(np.int8)
    out = {}
    for name, profile in PROFILES.items():
        fs = score_file(labels, wins, profile)
        out[name] = (fs.raw, fs.null, fs.perfect)
    return out


def _total(per_file: FoldScores, files: list[int], profile: str) -> float:
    raw = sum(per_file[i][profile][0] for i in files)
    null = sum(per_file[i][profile][1] for i in files)
    perfect = sum(per_file[i][profile][2] for i in files)
    return normalised(raw, null, perfect)


def cross_validate(files: list[tuple[str, pd.DataFrame, list[list[str]]]], threshold: float) -> dict[str, Any]:
    """2-fold cross-validation of the alarm constants over ``GRID`` (folds alternate by file name).

    Returns the constants each fold chose, the score on its training files and on its held-out files, and the
    held-out score of all files together (each scored with constants chosen without it).
    """
    prepared = []
    for name, frame, windows in files:
        values = frame["value"].to_numpy(dtype=float)
        n = values.size
        prepared.append(
            (name, stream_features(values, probation_length(n)), window_indices(frame["timestamp"].to_numpy(), windows))
        )
    table: list[FoldScores] = [
        [_scores_for(features, wins, params, threshold) for _name, features, wins in prepared] for params in GRID
    ]
    indices = list(range(len(prepared)))
    folds = [indices[0::2], indices[1::2]]
    chosen: list[dict[str, Any]] = []
    held_out: dict[int, int] = {}  # file -> index of the params it is scored with
    for k, test in enumerate(folds):
        train = folds[1 - k]
        best = max(range(len(GRID)), key=lambda g: _total(table[g], train, "standard"))
        for i in test:
            held_out[i] = best
        chosen.append(
            {
                "params": vars(GRID[best]),
                "train_files": len(train),
                "test_files": len(test),
                "train_standard": round(_total(table[best], train, "standard"), 2),
                "test_standard": round(_total(table[best], test, "standard"), 2),
            }
        )
    combined: FoldScores = [table[held_out[i]][i] for i in indices]
    shipped = GRID.index(AlarmParams())
    return {
        "grid_size": len(GRID),
        "folds": chosen,
        "held_out": {p: round(_total(combined, indices, p), 2) for p in PROFILES},
        "shipped_params_all_files": {p: round(_total(table[shipped], indices, p), 2) for p in PROFILES},
        "best_in_grid_all_files": round(max(_total(t, indices, "standard") for t in table), 2),
    }


def _print_cross_validation(result: dict[str, Any]) -> None:
    print(f"\n2-fold cross-validation of the alarm constants ({result['grid_size']} settings):")
    for k, fold in enumerate(result["folds"], 1):
        p = fold["params"]
        print(
            f"  fold {k}: chose z_half={p['z_half']} ref_k={p['ref_k']} quiet={p['quiet']} on {fold['train_files']} files "
            f"(standard {fold['train_standard']}); held-out {fold['test_files']} files: {fold['test_standard']}"
        )
    h = result["held_out"]
    print(
        f"  held-out NAB score, all files: standard {h['standard']} / low-FP {h['reward_low_FP_rate']} / low-FN {h['reward_low_FN_rate']}"
    )
