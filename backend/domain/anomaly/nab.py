"""Numenta Anomaly Benchmark (NAB) scoring rules, written from the NAB paper and README.

Per file: the first 15% of rows (at most 750) are a probation period where nothing is scored.
Each labelled window rewards its first detection with a scaled sigmoid of its position (earliest
= full tp weight) or costs ``fn`` when missed. A detection outside every window costs ``fp``
times the scaled sigmoid of its distance past the preceding window (a full ``fp`` when no window
precedes it). Totals over files are normalised so the null detector (no detections) scores 0 and
the perfect detector (a detection at each window's first scorable row) scores 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CostProfile:
    """Application profile: the weights of true positives, false positives and false negatives."""

    tp: float
    fp: float
    fn: float
    tn: float = 1.0  # NAB lists it, its score never uses it


PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostProfile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostProfile(tp=1.0, fp=0.11, fn=2.0),
}


def probation_length(n_rows: int, percent: float = 0.15) -> int:
    """Rows at the start of a file that are never scored: floor(15% of rows), at most 750."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


def scaled_sigmoid(position: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid: 2*sigmoid(-5x) - 1, and -1 from x >= 3 on.

    x = -1 is a window's left edge (0.9866), x = 0 its right edge (0), x > 0 lies past it.
    """
    x = np.asarray(position, dtype=float)
    return np.where(x >= 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0)


def window_indices(timestamps: np.ndarray, windows: list[tuple[str, str]] | list[list[str]]) -> list[tuple[int, int]]:
    """Row index ranges (first, last, inclusive) of labelled windows, given sorted row timestamps."""
    ts = np.asarray(timestamps, dtype="datetime64[ns]")
    out = []
    for start, end in windows:
        a = int(np.searchsorted(ts, np.datetime64(np_ts(start)), side="left"))
        b = int(np.searchsorted(ts, np.datetime64(np_ts(end)), side="right")) - 1
        if a <= b:
            out.append((a, b))
    return out


def np_ts(text: str) -> np.datetime64:
    """Parse a NAB timestamp ("2014-04-10 07:15:00.000000") to datetime64[ns]."""
    return np.datetime64(text.strip().replace(" ", "T"), "ns")


@dataclass
class FileScore:
    """Raw NAB score parts of one file under one profile."""

    raw: float
    tp: int
    fp: int
    fn: int
    windows: int
    null: float  # raw score of the null detector on this file
    perfect: float  # raw score of the perfect detector on this file


def _weights(n: int, wins: list[tuple[int, int]], profile: CostProfile) -> tuple[np.ndarray, np.ndarray]:
    """Per-row score of a detection there, and the window id of each row (-1 outside windows)."""
    weight = np.empty(n)
    win_id = np.full(n, -1, dtype=np.int64)
    max_tp = float(scaled_sigmoid(-1.0))
    prev_right: int | None = None
    prev_width = 1.0
    cursor = 0
    for k, (a, b) in enumerate([*wins, (n, n - 1)]):
        # rows between the previous window (or the file start) and this one: false positives
        gap = np.arange(cursor, min(a, n))
        if prev_right is None:
            weight[gap] = -profile.fp
        else:
            weight[gap] = profile.fp * scaled_sigmoid(np.abs(prev_right - gap) / max(prev_width - 1.0, 1.0))
        if a >= n:
            break
        rows = np.arange(a, b + 1)
        width = float(b - a + 1)
        weight[rows] = profile.tp * scaled_sigmoid(-(b - rows + 1) / width) / max_tp
        win_id[rows] = k
        prev_right, prev_width, cursor = b, width, b + 1
    return weight, win_id


def score_file(labels: np.ndarray, wins: list[tuple[int, int]], profile: CostProfile) -> FileScore:
    """NAB raw score of binary detections on one file.

    Args:
        labels: 0/1 (or bool) per row, 1 = the detector raised an alarm at this row.
        wins: labelled windows as inclusive row ranges (see window_indices), sorted, disjoint.
        profile: cost weights.
    """
    det = np.asarray(labels).astype(bool)
    n = det.size
    weight, win_id = _weights(n, wins, profile)
    scorable = np.arange(n) >= probation_length(n)
    live_windows = sorted({int(w) for w in win_id[scorable] if w >= 0})
    hits = det & scorable
    raw = 0.0
    tp = fn = 0
    perfect = 0.0
    for w in live_windows:
        rows = np.flatnonzero((win_id == w) & scorable)
        perfect += weight[rows[0]]
        found = rows[hits[rows]]
        if found.size:
            raw += weight[found[0]]  # the earliest detection carries the largest weight
            tp += 1
        else:
            raw -= profile.fn
            fn += 1
    fp_rows = hits & (win_id < 0)
    raw += float(weight[fp_rows].sum())
    null = -profile.fn * len(live_windows)
    return FileScore(raw, tp, int(fp_rows.sum()), fn, len(live_windows), null, perfect)


def normalised(raw: float, null: float, perfect: float) -> float:
    """100 * (raw - null) / (perfect - null); 0 when there is nothing to normalise by."""
    span = perfect - null
    return 100.0 * (raw - null) / span if span > 0 else 0.0


def perfect_labels(n: int, wins: list[tuple[int, int]]) -> np.ndarray:
    """The perfect detector: one alarm at each window's first scorable row."""
    out = np.zeros(n, dtype=np.int8)
    first = probation_length(n)
    for a, b in wins:
        if b >= first:
            out[max(a, first)] = 1
    return out
