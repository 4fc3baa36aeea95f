"""Generic streaming detector (NAB variant): causality, cycles, one alarm per event."""

from __future__ import annotations

import numpy as np

from backend.domain.anomaly.streaming import detect_period, rolling_zscore_scores, stream_scores


def _series(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 * np.sin(2 * np.pi * t / 100) + rng.normal(0, 1, n)


def test_cycle_is_found_in_the_opening_rows() -> None:
    assert detect_period(_series()[:450], 225) in (99, 100, 101)
    assert detect_period(np.random.default_rng(1).normal(size=450), 225) is None


def test_scores_are_causal_and_bounded() -> None:
    x = _series()
    full = stream_scores(x, 450)
    part = stream_scores(x[:2000], 450)
    np.testing.assert_allclose(full[:2000], part)
    assert ((full >= 0) & (full <= 1)).all()


def test_level_shift_gives_one_early_alarm_and_clean_series_none() -> None:
    x = _series()
    assert (stream_scores(x, 450) < 0.5).all()
    shifted = x.copy()
    shifted[2000:] += 15
    alarms = np.flatnonzero(stream_scores(shifted, 450) >= 0.5)
    assert alarms.size >= 1 and 2000 <= alarms[0] <= 2003
    assert not ((alarms > alarms[0]) & (alarms < alarms[0] + 225)).any()  # quiet after an alarm


def test_reference_rolling_z_flags_spikes() -> None:
    x = np.random.default_rng(2).normal(size=500)
    x[400] = 12
    assert rolling_zscore_scores(x, 100)[400] == 1.0
