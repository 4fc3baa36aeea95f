"""Canonical names, units, plausibility, de-duplication and daily aggregation of samples."""

from __future__ import annotations

import pandas as pd
import pytest

from backend.domain.metrics import ImportLog, Sample, aggregate, frame_from_samples, load_catalog, temperature_deviation

T0 = 1_710_441_000  # 2024-03-14T18:30:00Z = 2024-03-15 00:00 in Asia/Kolkata


def run(samples: list[Sample], patient: str | None = "P1", tz: str = "UTC") -> tuple[pd.DataFrame, ImportLog, int]:
    log = ImportLog()
    result = aggregate([frame_from_samples(samples, tz)], load_catalog(), log, patient, tz)
    return result.days, log, result.duplicates


def value(days: pd.DataFrame, metric: str, day: str) -> float:
    hit = days[(days["metric"] == metric) & (days["day"] == day)]
    assert len(hit) == 1, f"{metric} {day}: {hit}"
    return float(hit["value"].iloc[0])


def test_catalog_reads_aliases_and_spelling_variants() -> None:
    catalog = load_catalog()
    assert catalog.canonical("HR") == "heart_rate"
    assert catalog.canonical("Resting Heart Rate") == "resting_hr"
    assert catalog.canonical("night_rhr") == "resting_hr"
    assert catalog.canonical("Body-Temperature") == "temperature"
    assert catalog.canonical("blood_pressure") is None


def test_stored_metric_names_match_the_detector_rules() -> None:
    from backend.domain.anomaly import load_rules

    assert set(load_rules().metrics) <= set(load_catalog().stored)


def test_fahrenheit_becomes_celsius_and_spo2_fraction_becomes_percent() -> None:
    days, log, _ = run([Sample("P1", T0 + 3600, "temp", 98.6, "°F"), Sample("P1", T0 + 3600, "spo2", 0.97, "%")])
    assert value(days, "temperature", "2024-03-14") == pytest.approx(37.0, abs=0.01)
    assert value(days, "spo2", "2024-03-14") == pytest.approx(97.0)
    assert log.rejected == []


@pytest.mark.parametrize(
    ("metric", "raw", "unit", "needle"),
    [
        ("hr", 400, "bpm", "Heart rate 400 bpm is impossible"),
        ("temperature", 60, "°C", "60 °C is impossible"),
        ("spo2", 120, "%", "cannot exceed 100"),
    ],
)
def test_impossible_values_are_rejected_with_the_reason(metric: str, raw: float, unit: str, needle: str) -> None:
    days, log, _ = run([Sample("P1", T0, metric, raw, unit, line=7), Sample("P1", T0, "steps", 10, "", line=8)])
    assert [line for line, _ in log.rejected] == [7]
    assert needle in log.rejected[0][1]
    assert value(days, "steps", "2024-03-14") == 10


def test_fahrenheit_without_unit_is_rejected_with_a_hint() -> None:
    _, log, _ = run([Sample("P1", T0, "temperature", 99.1, "", line=3)])
    assert log.rejected[0][0] == 3 and "°F" in log.rejected[0][1]


def test_unknown_unit_rejected_unknown_metric_listed_not_rejected() -> None:
    _, log, _ = run(
        [Sample("P1", T0, "spo2", 97, "mmHg", line=2), Sample("P1", T0, "blood_glucose", 5.1, "mmol/L", line=3)] * 2
    )
    assert log.rejected[0] == (2, "unit 'mmHg' is not a unit of spo2 (use %, 1, fraction, percent, ratio)")
    assert log.unknown == {"blood_glucose": 2}
    assert all(line != 3 for line, _ in log.rejected)


def test_duplicates_are_removed_before_summing() -> None:
    steps = [Sample("P1", T0 + 3600 * 9, "steps", 500, "")] * 3 + [Sample("P1", T0 + 3600 * 10, "steps", 250, "")]
    days, _, duplicates = run(steps)
    assert duplicates == 2
    assert value(days, "steps", "2024-03-15") == 750


def test_steps_from_two_devices_are_not_double_counted() -> None:
    phone = [Sample("P1", T0 + 3600 * h, "steps", 1000, "", "iPhone") for h in range(8, 12)]
    watch = [Sample("P1", T0 + 3600 * h + 60, "steps", 900, "", "Watch") for h in range(8, 12)]
    days, _, _ = run(phone + watch)
    assert value(days, "steps", "2024-03-15") == 4000


def test_days_follow_the_time_zone_and_night_values_win() -> None:
    # 01:00-03:00 local (Asia/Kolkata) HRV 50, afternoon HRV 20: the nightly mean is 50.
    night = [Sample("P1", T0 + 3600 + 600 * i, "hrv", 50, "ms") for i in range(12)]
    day = [Sample("P1", T0 + 3600 * 15, "hrv", 20, "ms")]
    days, _, _ = run(night + day, tz="Asia/Kolkata")
    assert value(days, "hrv", "2024-03-15") == 50


def test_resting_hr_prefers_resting_samples_else_low_night_percentile() -> None:
    hr_night = [Sample("P1", T0 + 3600 + 300 * i, "hr", 50 + i, "bpm") for i in range(20)]  # 50..69
    rest_next_day = [Sample("P1", T0 + 86400 + 3600, "night_rhr", 58, "bpm")]
    hr_next_day = [Sample("P1", T0 + 86400 + 3600 + 300 * i, "hr", 80, "bpm") for i in range(5)]
    days, _, _ = run(hr_night + rest_next_day + hr_next_day, tz="Asia/Kolkata")
    assert value(days, "resting_hr", "2024-03-15") == pytest.approx(51.9)  # 10th percentile of 50..69
    assert value(days, "resting_hr", "2024-03-16") == 58


def test_rows_of_another_patient_are_rejected() -> None:
    days, log, _ = run(
        [Sample("P2", T0, "steps", 10, "", line=4), Sample("", T0, "steps", 20, "", line=5)], patient="P1"
    )
    assert log.rejected == [(4, "patient_id 'P2' is not the selected patient (P1)")]
    assert days["patient_id"].unique().tolist() == ["P1"]


def test_temperature_deviation_is_causal() -> None:
    nights = pd.DataFrame(
        {
            "patient_id": "P1",
            "day": [f"2024-03-{d:02d}" for d in range(1, 8)],
            "value": [33.0, 33.2, 33.1, 33.0, 33.1, 34.1, 33.1],
        }
    )
    dev = temperature_deviation(nights, window_nights=28, min_nights=3)
    assert dev["day"].tolist() == ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
    assert dev.set_index("day").loc["2024-03-06", "value"] == pytest.approx(1.0)
    longer = temperature_deviation(pd.concat([nights, nights.assign(day="2024-03-08", value=36.0).head(1)]), 28, 3)
    assert longer.set_index("day").loc["2024-03-06", "value"] == pytest.approx(
        1.0
    )  # a later night changes nothing before it
