"""Figures of the metrics page: the anomaly marker sits on the anomalous day with its explanation."""

from __future__ import annotations

import pandas as pd
import pytest

from backend.charts.metrics import (
    TRACE_ALERT,
    TRACE_ANOMALY,
    TRACE_BAND_HIGH,
    TRACE_BAND_LOW,
    TRACE_VALUE,
    alert_line_label,
    build_patient_page,
    chart_title,
    cohort_rows,
    how_to_read,
    illness_score_figure,
    metric_figure,
)
from backend.domain.anomaly import detect, detect_many, load_rules, synth_patient_days

EPISODE = (150, 155)


@pytest.fixture(scope="module")
def detection():  # type: ignore[no-untyped-def]
    return detect(synth_patient_days(200, seed=6, episodes=[EPISODE]))


def trace(fig, name):  # type: ignore[no-untyped-def]
    return next(t for t in fig.data if t.name == name)


def per_day_with_anomaly_on(day: str) -> pd.DataFrame:
    days = pd.date_range("2024-03-01", periods=10, freq="D")
    values = [60.0] * 10
    flagged = days == pd.Timestamp(day)
    values[int(flagged.argmax())] = 75.0
    return pd.DataFrame(
        {
            "day": days, "metric": "resting_hr", "value": values, "baseline": 60.0, "band_low": 56.0, "band_high": 64.0,
            "robust_z": [5.0 if f else 0.0 for f in flagged], "is_anomaly": flagged,
            "explanation": ["Resting HR 75 bpm, 15 above the 28-day median of 60" if f else "" for f in flagged],
        }
    )  # fmt: skip


def test_metric_figure_marks_the_anomalous_day_with_its_explanation() -> None:
    fig = metric_figure(per_day_with_anomaly_on("2024-03-07"), "resting_hr")
    assert [t.name for t in fig.data] == [
        TRACE_BAND_HIGH, TRACE_BAND_LOW, "baseline: median of the previous 28 days", TRACE_VALUE, TRACE_ANOMALY
    ]  # fmt: skip
    assert trace(fig, TRACE_BAND_LOW).fill == "tonexty" and list(trace(fig, TRACE_BAND_HIGH).y) == [64.0] * 10
    marker = trace(fig, TRACE_ANOMALY)
    assert list(pd.to_datetime(list(marker.x))) == [pd.Timestamp("2024-03-07")]
    assert list(marker.y) == [75.0]
    assert marker.hovertext == ("Resting HR 75 bpm, 15 above the 28-day median of 60",)
    assert len(trace(fig, TRACE_VALUE).x) == 10 and "Resting HR" in fig.layout.title.text


def test_metric_figure_markers_follow_the_detector(detection) -> None:  # type: ignore[no-untyped-def]
    for metric in detection.per_day["metric"].unique():
        fig = metric_figure(detection.per_day, metric)
        rows = detection.per_day[(detection.per_day["metric"] == metric) & detection.per_day["is_anomaly"]]
        assert list(pd.to_datetime(list(trace(fig, TRACE_ANOMALY).x))) == list(pd.to_datetime(rows["day"]))
        assert len(trace(fig, TRACE_VALUE).x) == 200


def test_metric_figure_date_range_limits_every_trace(detection) -> None:  # type: ignore[no-untyped-def]
    fig = metric_figure(detection.per_day, "hrv", start="2024-02-01", end="2024-02-29")
    assert len(trace(fig, TRACE_VALUE).x) == 29
    assert len(trace(fig, TRACE_ANOMALY).x) == 0


def test_illness_figure_marks_alert_days(detection) -> None:  # type: ignore[no-untyped-def]
    fig = illness_score_figure(detection.illness)
    alerts = pd.to_datetime(list(trace(fig, TRACE_ALERT).x))
    expected = pd.to_datetime(detection.illness.loc[detection.illness["is_alert"].astype(bool), "day"])
    assert list(alerts) == list(expected)
    assert fig.layout.shapes[0].y0 == pytest.approx(load_rules().illness.alert_score)


def test_cohort_rows_lists_patients_with_recent_anomalies_worst_first() -> None:
    frames = [
        synth_patient_days(90, seed=i, episodes=[(85, 89)] if i in (1, 4) else None).assign(patient_id=f"P{i}")
        for i in range(6)
    ]
    rows = cohort_rows(detect_many(pd.concat(frames)), days=7, names={"P1": "Asha"})
    assert all(r["last_anomaly"] >= "2024-03-24" for r in rows)  # the window is the last 7 days (to 2024-03-30)
    ids = [r["patient_id"] for r in rows]
    assert {"P1", "P4"} <= set(ids)
    assert rows == sorted(rows, key=lambda r: (-r["score"], -r["anomalies"], r["patient_id"]))
    assert next(r for r in rows if r["patient_id"] == "P1")["name"] == "Asha"
    earlier = cohort_rows(detect_many(pd.concat(frames)), days=7, as_of="2024-02-01")
    assert all("2024-01-26" <= r["last_anomaly"] <= "2024-02-01" for r in earlier)


def test_patient_page_draws_six_metrics_and_keeps_episodes_in_range() -> None:
    page = build_patient_page(synth_patient_days(120, seed=5, episodes=[(100, 104)]), start="2024-03-01")
    assert set(page.figures) == {"resting_hr", "hrv", "temperature_dev", "sleep_hours", "steps", "spo2"}
    assert page.episodes and all(e.end_day.isoformat() >= "2024-03-01" for e in page.episodes)


def test_the_legend_names_the_band_and_the_baseline_once() -> None:
    fig = metric_figure(per_day_with_anomaly_on("2024-03-07"), "resting_hr")
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert fig.layout.showlegend is True
    assert shown == [TRACE_BAND_LOW, "baseline: median of the previous 28 days", TRACE_VALUE, TRACE_ANOMALY]


def test_a_unit_that_repeats_the_label_is_not_shown_twice() -> None:
    assert chart_title("Steps", "steps") == "Steps"
    assert chart_title("Resting HR", "bpm") == "Resting HR (bpm)"
    assert chart_title("Sleep", "") == "Sleep"
    assert chart_title("HRV (RMSSD)", "ms") == "HRV (RMSSD, ms)"


def test_the_alert_line_says_what_an_alert_needs_from_the_rules() -> None:
    rules = load_rules()
    fig = illness_score_figure(pd.DataFrame(columns=["day", "score", "is_alert"]), rules)
    label = fig.layout.annotations[0].text
    assert label == alert_line_label(rules) and label.startswith(f"alert at {rules.illness.alert_score:g}:")
    assert f"{rules.illness.min_signals}+ signals" in label and label in how_to_read(rules)
