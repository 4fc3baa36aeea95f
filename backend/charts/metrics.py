"""Plotly figures of the health-metrics page, built by plain functions (testable without Streamlit).

* :func:`metric_figure` — one metric: the patient's values, the baseline and its band, anomaly
  markers whose hover text is the explanation.
* :func:`illness_score_figure` — the combined illness score over time with the alert line.
* :func:`cohort_rows` — the doctor's cohort table: patients with anomalies in the last N days.
* :func:`build_patient_page` — detection plus every figure of one patient (what the page renders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backend.domain.anomaly import detect
from backend.domain.anomaly.detector import DetectionResult, Episode
from backend.domain.anomaly.rules import MetricRules, load_rules

PAGE_METRICS = ("resting_hr", "hrv", "temperature_dev", "sleep_hours", "steps", "spo2")
VALUE_COLOUR = "#1f77b4"
BAND_COLOUR = "rgba(31, 119, 180, 0.15)"
ANOMALY_COLOUR = "#d62728"
# Trace names are what the legend shows, so they are written for the doctor reading the chart.
TRACE_VALUE = "daily value"
TRACE_BASELINE = "baseline: median of the previous {days} days"
TRACE_BAND_LOW = "usual range for this patient"
TRACE_BAND_HIGH = "usual range (upper edge)"
TRACE_ANOMALY = "anomaly (hover for why)"
TRACE_SCORE, TRACE_ALERT = "illness score", "alert day"
# Below the plot, so it never covers the title or the latest days.
LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0, "font": {"size": 11}}


def chart_title(label: str, unit: str) -> str:
    """``label (unit)``, without the unit when it only repeats the label ("Steps", not "Steps (steps)"), and inside
    the label's own brackets when it has some ("HRV (RMSSD, ms)", not "HRV (RMSSD) (ms)")."""
    if not unit or unit.strip().lower() == label.strip().lower():
        return label
    return f"{label[:-1]}, {unit})" if label.endswith(")") else f"{label} ({unit})"


def _window(frame: pd.DataFrame, start: Any = None, end: Any = None) -> pd.DataFrame:
    if frame.empty:
        return frame
    days = pd.to_datetime(frame["day"])
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= (days >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (days <= pd.Timestamp(end)).to_numpy()
    return frame.loc[keep]


def metric_figure(
    per_day: pd.DataFrame, metric: str, rules: MetricRules | None = None, start: Any = None, end: Any = None
) -> go.Figure:
    """The chart of one metric from the detector's ``per_day`` frame.

    Traces (by ``name``, which the legend shows): ``TRACE_BAND_HIGH`` and ``TRACE_BAND_LOW`` (filled
    between: the patient's usual range, in the legend once), ``TRACE_BASELINE`` (dashed), ``TRACE_VALUE``
    (the daily values) and ``TRACE_ANOMALY`` (markers on flagged days, the explanation in ``hovertext``).
    ``start``/``end`` limit the dates shown (inclusive).
    """
    cfg = rules or load_rules()
    rule = cfg.metrics.get(metric)
    label = rule.display if rule else metric
    unit = rule.unit if rule else ""
    decimals = rule.decimals if rule else 1
    rows = _window(per_day[per_day["metric"] == metric], start, end).sort_values("day")
    days = pd.to_datetime(rows["day"])
    fig = go.Figure()
    hover = f"%{{x|%d %b %Y}}: %{{y:.{decimals}f}} {unit}<extra></extra>"
    fig.add_trace(
        go.Scatter(
            x=days,
            y=rows["band_high"],
            name=TRACE_BAND_HIGH,
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    band_low = {
        "name": TRACE_BAND_LOW,
        "mode": "lines",
        "line": {"width": 0},
        "fill": "tonexty",
        "fillcolor": BAND_COLOUR,
    }
    fig.add_trace(go.Scatter(x=days, y=rows["band_low"], hoverinfo="skip", showlegend=True, **band_low))
    fig.add_trace(
        go.Scatter(
            x=days,
            y=rows["baseline"],
            name=TRACE_BASELINE.format(days=cfg.window_days),
            mode="lines",
            line={"dash": "dash", "color": "grey"},
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=rows["value"],
            name=TRACE_VALUE,
            mode="lines+markers",
            marker={"size": 4},
            line={"color": VALUE_COLOUR},
            hovertemplate=hover,
        )
    )
    flagged = rows[rows["is_anomaly"].astype(bool)]
    texts = flagged["explanation"].astype(str).tolist() if "explanation" in flagged else [""] * len(flagged)
    marker = {"color": ANOMALY_COLOUR, "size": 11, "symbol": "circle-open", "line": {"width": 3}}
    fig.add_trace(
        go.Scatter(
            x=pd.to_datetime(flagged["day"]),
            y=flagged["value"],
            name=TRACE_ANOMALY,
            mode="markers",
            marker=marker,
            hovertext=texts,
            hoverinfo="text",
        )
    )
    fig.update_layout(
        title=chart_title(label, unit),
        height=310,
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        showlegend=True,
        legend=LEGEND,
        hovermode="closest",
        meta={"metric": metric, "anomalies": len(flagged)},
    )
    return fig


def alert_line_label(rules: MetricRules) -> str:
    """What the dotted line on the illness chart means, from the rules (not a hard-coded 0.5)."""
    ill = rules.illness
    return (
        f"alert at {ill.alert_score:g}: {ill.min_signals}+ signals off, {ill.persistence}+ days running"
        f" (one day at {ill.extreme_score:g})"
    )


def illness_score_figure(
    illness: pd.DataFrame, rules: MetricRules | None = None, start: Any = None, end: Any = None
) -> go.Figure:
    """The combined illness score (0..1) per day, alert days marked, the alert threshold as a line.

    Traces: ``TRACE_SCORE`` and ``TRACE_ALERT`` (markers on alert days); the dotted line at the alert
    threshold is labelled with what an alert needs.
    """
    cfg = rules or load_rules()
    rows = _window(illness, start, end).sort_values("day") if not illness.empty else illness
    days = pd.to_datetime(rows["day"]) if not rows.empty else pd.Series(dtype="datetime64[ns]")
    fig = go.Figure()
    scores = rows["score"] if not rows.empty else []
    line = {"color": "#9467bd"}
    fig.add_trace(
        go.Scatter(
            x=days,
            y=scores,
            name=TRACE_SCORE,
            mode="lines",
            line=line,
            hovertemplate="%{x|%d %b %Y}: %{y:.2f}<extra></extra>",
        )
    )
    alerts = rows[rows["is_alert"].astype(bool)] if not rows.empty else rows
    alert_days = pd.to_datetime(alerts["day"]) if not alerts.empty else []
    alert_scores = alerts["score"] if not alerts.empty else []
    fig.add_trace(
        go.Scatter(
            x=alert_days,
            y=alert_scores,
            name=TRACE_ALERT,
            mode="markers",
            marker={"color": ANOMALY_COLOUR, "size": 9},
            hovertemplate="%{x|%d %b %Y}: illness score %{y:.2f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=cfg.illness.alert_score,
        line={"dash": "dot", "color": ANOMALY_COLOUR},
        annotation_text=alert_line_label(cfg),
        annotation_position="top left",
    )
    fig.update_layout(
        # Two short lines fit a phone's width; one long line was cut off there.
        title="Illness score<br><sup>resting HR up + HRV down + temperature up</sup>",
        yaxis={"range": [0, 1], "title": {"text": "0 = usual, 1 = far off"}},
        height=300,
        margin={"l": 50, "r": 10, "t": 55, "b": 30},
        showlegend=True,
        legend=LEGEND,
    )
    return fig


def cohort_rows(
    scored: pd.DataFrame, days: int = 7, as_of: Any = None, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Patients with at least one anomaly in the last ``days`` days, worst first.

    Args:
        scored: ``detect_many`` output (patient_id, day, metric, robust_z, is_anomaly, illness_score).
        as_of: the last day of the window; default the latest day in ``scored``.
        names: patient_id -> display name, for the table.

    Returns:
        Rows with patient_id, name, score (max illness score in the window), anomalies (count of
        anomalous patient-days-metrics), metrics (sorted names), last_anomaly (ISO date), sorted by
        score then anomalies, both descending.
    """
    if scored.empty:
        return []
    day = pd.to_datetime(scored["day"])
    end = pd.Timestamp(as_of) if as_of is not None else day.max()
    recent = scored.loc[((day > end - pd.Timedelta(days=days)) & (day <= end)).to_numpy()].copy()
    recent["day"] = pd.to_datetime(recent["day"])
    flagged = recent[recent["is_anomaly"].astype(bool)]
    if flagged.empty:
        return []
    score = recent.groupby("patient_id")["illness_score"].max()
    rows = []
    for pid, group in flagged.groupby("patient_id"):
        rows.append(
            {
                "patient_id": str(pid),
                "name": (names or {}).get(str(pid), ""),
                "score": round(float(score.get(pid, 0.0)), 3),
                "anomalies": len(group),
                "metrics": sorted(group["metric"].astype(str).unique().tolist()),
                "last_anomaly": group["day"].max().date().isoformat(),
            }
        )
    rows.sort(key=lambda r: (-r["score"], -r["anomalies"], r["patient_id"]))
    return rows


@dataclass
class PatientPage:
    """Everything the page shows for one patient."""

    figures: dict[str, go.Figure]
    illness: go.Figure
    episodes: list[Episode] = field(default_factory=list)
    detection: DetectionResult | None = None


def build_patient_page(
    daily: pd.DataFrame,
    metrics: tuple[str, ...] = PAGE_METRICS,
    rules: MetricRules | None = None,
    start: Any = None,
    end: Any = None,
) -> PatientPage:
    """Detect on the whole history (baselines need it), then draw the window ``start``..``end``.

    Args:
        daily: long frame (day, metric, value) of one patient, e.g. from ``patient_days_frame``.
    """
    cfg = rules or load_rules()
    result = detect(daily, cfg)
    present = set(result.per_day["metric"].unique()) if not result.per_day.empty else set()
    figures = {m: metric_figure(result.per_day, m, cfg, start, end) for m in metrics if m in present}
    lo = pd.Timestamp(start).date() if start is not None else None
    hi = pd.Timestamp(end).date() if end is not None else None
    episodes = [e for e in result.episodes if (lo is None or e.end_day >= lo) and (hi is None or e.start_day <= hi)]
    return PatientPage(figures, illness_score_figure(result.illness, cfg, start, end), episodes, result)


def how_to_read(rules: MetricRules) -> str:
    """One caption that tells a doctor what the shaded band, the dashed line and the red rings mean."""
    days = rules.window_days
    return (
        f"How to read the charts: the **dashed line** is this patient's baseline (median of the previous {days} "
        "days); the **shaded band** is their usual range around it; a **red ring** is an anomaly, a day beyond the "
        "band in the clinically meaningful direction (hover it for why). The illness score (0–1) combines resting "
        f"HR up, HRV down and temperature up; the dotted line is the alert threshold ({alert_line_label(rules)})."
    )
