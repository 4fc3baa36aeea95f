"""NAB scorer: sigmoid, probation, window matching, null = 0 and perfect = 100."""

from __future__ import annotations

import numpy as np
import pytest

from backend.domain.anomaly.nab import (
    PROFILES,
    normalised,
    perfect_labels,
    probation_length,
    scaled_sigmoid,
    score_file,
    window_indices,
)

STD = PROFILES["standard"]


def test_scaled_sigmoid_reference_points() -> None:
    assert float(scaled_sigmoid(-1.0)) == pytest.approx(0.98661, abs=1e-5)
    assert float(scaled_sigmoid(-0.5)) == pytest.approx(0.84828, abs=1e-5)
    assert float(scaled_sigmoid(0.0)) == pytest.approx(0.0)
    assert float(scaled_sigmoid(1.0)) == pytest.approx(-0.98661, abs=1e-5)
    assert float(scaled_sigmoid(3.0)) == -1.0


def test_probation_length_is_15_percent_capped_at_750() -> None:
    assert probation_length(4032) == 604
    assert probation_length(1000) == 150
    assert probation_length(22695) == 750


def test_window_matching_by_timestamp() -> None:
    ts = np.arange("2014-01-01T00:00", "2014-01-01T10:00", np.timedelta64(5, "m"), dtype="datetime64[ns]")
    wins = window_indices(ts, [["2014-01-01 01:00:00.000000", "2014-01-01 02:00:00.000000"]])
    assert wins == [(12, 24)]


def _labels(n: int, rows: list[int]) -> np.ndarray:
    out = np.zeros(n, dtype=np.int8)
    out[rows] = 1
    return out


def test_first_detection_counts_and_earlier_is_better() -> None:
    n, wins = 1000, [(500, 599)]
    at_start = score_file(_labels(n, [500]), wins, STD)
    assert at_start.raw == pytest.approx(1.0) and at_start.tp == 1
    late = score_file(_labels(n, [590]), wins, STD)
    assert 0 < late.raw < at_start.raw
    both = score_file(_labels(n, [500, 590]), wins, STD)
    assert both.raw == pytest.approx(at_start.raw) and both.fp == 0  # later ones in the window add nothing


def test_missed_window_costs_fn_and_probation_is_ignored() -> None:
    n, wins = 1000, [(500, 599)]
    nothing = score_file(np.zeros(n), wins, STD)
    assert nothing.raw == -1.0 and nothing.fn == 1
    in_probation = score_file(_labels(n, [10, 100]), wins, STD)
    assert in_probation.raw == -1.0 and in_probation.fp == 0
    low_fn = score_file(np.zeros(n), wins, PROFILES["reward_low_FN_rate"])
    assert low_fn.raw == -2.0


def test_false_positive_weights() -> None:
    n, wins = 1000, [(500, 599)]
    before_any_window = score_file(_labels(n, [300]), wins, STD)
    assert before_any_window.raw == pytest.approx(-1.0 - 0.11)
    just_after = score_file(_labels(n, [601]), wins, STD)
    far_after = score_file(_labels(n, [950]), wins, STD)
    assert far_after.raw == pytest.approx(-1.11)  # 3+ window widths past: a full FP
    assert far_after.raw < just_after.raw < -1.0
    # 1 row past the right edge: position 2/99 → fp * scaled_sigmoid(2/99)
    assert just_after.raw == pytest.approx(-1.0 + 0.11 * float(scaled_sigmoid(2 / 99)))
    low_fp = score_file(_labels(n, [300]), wins, PROFILES["reward_low_FP_rate"])
    assert low_fp.raw == pytest.approx(-1.22)


def test_null_scores_zero_and_perfect_scores_hundred() -> None:
    files = [(4032, [(2787, 3189)]), (10320, [(5839, 6045), (7080, 7286), (9977, 10183)]), (4032, [])]
    for profile in PROFILES.values():
        raw_null = raw_perfect = null = perfect = 0.0
        for n, wins in files:
            fs_null = score_file(np.zeros(n), wins, profile)
            fs_perfect = score_file(perfect_labels(n, wins), wins, profile)
            raw_null += fs_null.raw
            raw_perfect += fs_perfect.raw
            null += fs_null.null
            perfect += fs_null.perfect
        assert normalised(raw_null, null, perfect) == pytest.approx(0.0)
        assert normalised(raw_perfect, null, perfect) == pytest.approx(100.0)
