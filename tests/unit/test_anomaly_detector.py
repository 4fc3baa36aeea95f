"""Daily-metric anomaly detector: injected episodes, clean series, causality, explanations, batch API."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from backend.domain.anomaly import detect, detect_many, load_rules, synth_patient_days
from backend.domain.anomaly.explain import days_running
from backend.domain.errors import ValidationFailed


def _day_index(result_frame: pd.DataFrame, day) -> int:
    return (pd.Timestamp(day) - pd.Timestamp(result_frame["day"].min())).days


@pytest.mark.parametrize("seed", range(8))
def test_injected_illness_is_detected_within_one_day_of_onset(seed: int) -> None:
    onset = 120 + 7 * seed
    result = detect(synth_patient_days(240, seed, [(onset, onset + 5)]))
    near = [e for e in result.episodes if abs(_day_index(result.illness, e.start_day) - onset) <= 2]
    assert near, f"no episode near onset {onset}: {result.episodes}"
    first_alarm = min(_day_index(result.illness, e.detected_day) for e in near)
    assert first_alarm <= onset + 1
    assert any(e.kind == "illness" for e in near), "the combined RHR/HRV/temperature score should alert too"


def test_clean_series_raise_few_alarms() -> None:
    episodes = [detect(synth_patient_days(365, 1000 + s, [])).episodes for s in range(12)]
    total = sum(len(e) for e in episodes)
    illness = sum(1 for eps in episodes for e in eps if e.kind == "illness")
    # 12 patient-years of noise with weeks-long drift: at most one false episode per 2 patient-years
    assert total <= 6, [e.explanation for eps in episodes for e in eps]
    assert illness <= 1
    assert sum(1 for eps in episodes if not eps) >= 8


def test_appending_future_days_never_changes_past_decisions() -> None:
    full = synth_patient_days(200, 7, [(90, 95), (170, 174)])
    cut = pd.Timestamp("2024-01-01") + pd.Timedelta(days=130)
    past = detect(full[full["day"] <= cut]).per_day
    later = detect(full).per_day
    later = later[later["day"] <= cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(past.reset_index(drop=True), later)


def test_no_decision_before_minimum_history() -> None:
    per_day = detect(synth_patient_days(40, 3, [(5, 10)])).per_day
    first_days = per_day[per_day["day"] < pd.Timestamp("2024-01-15")]
    assert first_days["robust_z"].isna().all()
    assert not first_days["is_anomaly"].any()


def test_direction_matters_hrv_rise_and_hr_fall_are_not_flagged() -> None:
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    rng = np.random.default_rng(0)
    hr = 60 + rng.normal(0, 1.5, 60).round()
    hrv = 50 + rng.normal(0, 4, 60).round()
    hr[40:45] -= 15  # fitter, not sicker
    hrv[40:45] += 30
    result = detect(pd.DataFrame({"day": days, "resting_hr": hr, "hrv": hrv}))  # wide input
    assert not result.per_day["is_anomaly"].any()
    assert result.per_day.loc[result.per_day["metric"] == "resting_hr", "robust_z"].iloc[42] < -3


def test_explanation_carries_the_numbers() -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    hr = np.tile([62.0, 66.0, 70.0, 64.0, 68.0, 66.0, 65.0], 6)[:40]
    hr[30:33] = [78.0, 79.0, 78.0]
    result = detect(pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "metric": "resting_hr", "value": hr}))
    (episode,) = [e for e in result.episodes if e.metric == "resting_hr"]
    assert episode.start_day == days[30].date() and episode.end_day == days[32].date()
    assert episode.detected_day == days[31].date()  # persistence 2
    assert episode.direction == "up" and episode.peak_value == 79.0 and episode.baseline == 66.0
    match = re.fullmatch(
        r"Resting HR 79 bpm, 13 above the 28-day median of 66 \((\d+\.\d) robust SD\), second day running",
        episode.explanation,
    )
    assert match, episode.explanation
    assert float(match.group(1)) == pytest.approx(episode.robust_z, abs=0.05)
    flagged = result.per_day[result.per_day["is_anomaly"]]
    assert flagged["explanation"].iloc[-1].endswith("third day running")
    row = result.per_day[(result.per_day["day"] == days[31])].iloc[0]
    assert row["band_low"] < row["baseline"] < row["band_high"] < row["value"]


def test_days_running_wording() -> None:
    assert days_running(1) == "first day"
    assert days_running(3) == "third day running"
    assert days_running(12) == "12th day running"
    assert days_running(22) == "22nd day running"


def test_implausible_values_are_ignored() -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    hr = 60 + np.random.default_rng(1).normal(0, 1.5, 40).round()
    hr[30] = 400.0  # a sensor glitch, not tachycardia
    result = detect(pd.DataFrame({"day": days, "metric": "resting_hr", "value": hr}))
    assert not result.per_day["is_anomaly"].any()


def test_detect_many_matches_detect_per_patient() -> None:
    frames = []
    for pid, seed, eps in [("PAT_a", 1, [(60, 65)]), ("PAT_b", 2, []), ("PAT_c", 3, [(80, 84)])]:
        f = synth_patient_days(120 + seed * 5, seed, eps, start=f"2024-0{seed}-01")
        f.insert(0, "patient_id", pid)
        frames.append(f)
    cohort = pd.concat(frames, ignore_index=True)
    many = detect_many(cohort)
    assert list(many.columns) == ["patient_id", "day", "metric", "robust_z", "is_anomaly", "illness_score"]
    assert len(many) == len(cohort)
    for pid, frame in cohort.groupby("patient_id"):
        single = detect(frame.drop(columns="patient_id"))
        mine = many[many["patient_id"] == pid].astype({"metric": str}).sort_values(["metric", "day"])
        ref = single.per_day.sort_values(["metric", "day"])
        np.testing.assert_allclose(mine["robust_z"].to_numpy(), ref["robust_z"].to_numpy(), rtol=1e-9)
        assert (mine["is_anomaly"].to_numpy() == ref["is_anomaly"].to_numpy()).all()
        scores = mine.groupby("day")["illness_score"].first()
        expected = single.illness.set_index("day")["score"].reindex(scores.index)
        np.testing.assert_allclose(scores.to_numpy(), expected.to_numpy())


def test_rules_file_directions_and_errors(tmp_path) -> None:
    rules = load_rules()
    directions = {m: r.direction for m, r in rules.metrics.items()}
    assert directions == {
        "resting_hr": "up",
        "hrv": "down",
        "temperature_dev": "up",
        "spo2": "down",
        "sleep_hours": "down",
        "steps": "down",
        "respiratory_rate": "up",
    }
    assert rules.window_days == 28 and rules.min_history_days == 14
    bad = tmp_path / "bad.toml"
    bad.write_text('[metrics.x]\ndirection = "sideways"\nz_threshold = 3\n')
    with pytest.raises(ValidationFailed, match="direction"):
        load_rules(bad)
    with pytest.raises(ValidationFailed, match="does not exist"):
        load_rules(tmp_path / "missing.toml")
