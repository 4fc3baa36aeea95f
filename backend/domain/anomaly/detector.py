"""Per-patient anomaly detection on daily wearable metrics (public API: detect, detect_many).

Every decision on day t uses values up to day t only: the baseline is the patient's own trailing
window (default 28 days, at least 14 observed) with the current day and earlier candidate days left
out. A day is flagged when the deviation in the clinically meaningful direction passes both the
robust-z and the absolute thresholds for ``persistence`` days running, or once when it is extreme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from backend.domain.anomaly.core import WideScores, illness_score, score_wide
from backend.domain.anomaly.explain import explain_illness, explain_metric
from backend.domain.anomaly.rules import MetricRules, load_rules
from backend.domain.errors import ValidationFailed

_PATIENT_CHUNK = 250  # patients scored together: bounds memory at ~(days x 1,500) floats per array


@dataclass
class Episode:
    """A run of anomalous days of one metric, or of the combined illness score."""

    metric: str
    start_day: date  # first qualifying day (onset), even if the alert came later
    end_day: date
    peak_value: float
    baseline: float
    robust_z: float
    direction: str
    explanation: str
    kind: str = "metric"  # "metric" | "illness"
    detected_day: date | None = None  # first day the rule fired (start_day + persistence - 1 at most)


@dataclass
class DetectionResult:
    """Per-day figures, episodes and the combined illness score of one patient."""

    per_day: pd.DataFrame
    episodes: list[Episode] = field(default_factory=list)
    illness: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["day", "score", "is_alert"]))


def _long_form(daily: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Accept long (day, metric, value) or wide (day + one column per metric) frames."""
    if "day" not in daily.columns:
        raise ValidationFailed("Daily metrics need a 'day' column (date or ISO string).")
    if "metric" in daily.columns and "value" in daily.columns:
        long = daily[["day", *extra, "metric", "value"]].copy()
    else:
        value_cols = [c for c in daily.columns if c not in ("day", *extra)]
        long = daily.melt(id_vars=["day", *extra], value_vars=value_cols, var_name="metric", value_name="value")
    try:
        long["day"] = pd.to_datetime(long["day"]).dt.tz_localize(None).dt.normalize()
    except (ValueError, TypeError) as e:
        raise ValidationFailed(f"The 'day' column has values that are not dates ({e}).") from e
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna(subset=["value"])


def _episodes_of(ws: WideScores, j: int, metric: str, days: pd.DatetimeIndex, cfg: MetricRules) -> list[Episode]:
    rule = cfg.metrics[metric]
    cand = ws.candidate[:, j]
    edges = np.diff(np.concatenate([[0], cand.astype(np.int8), [0]]))
    out = []
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True):
        fired = np.flatnonzero(ws.anomaly[a : b + 1, j])
        if fired.size == 0:
            continue
        peak = a + int(np.nanargmax(ws.dz[a : b + 1, j]))
        value, base, z = float(ws.value[peak, j]), float(ws.baseline[peak, j]), float(ws.z[peak, j])
        text = explain_metric(rule, value, base, z, int(ws.run[peak, j]), cfg.window_days)
        out.append(
            Episode(
                metric,
                days[a].date(),
                days[b].date(),
                value,
                base,
                z,
                rule.direction,
                text,
                "metric",
                days[a + fired[0]].date(),
            )
        )
    return out


def _illness_episodes(
    score: np.ndarray, alert: np.ndarray, ws: WideScores, metrics: list[str], days: pd.DatetimeIndex, cfg: MetricRules
) -> list[Episode]:
    edges = np.diff(np.concatenate([[0], alert.astype(np.int8), [0]]))
    out = []
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True):
        peak = a + int(np.argmax(score[a : b + 1]))
        parts, top = [], 0.0
        for j, m in enumerate(metrics):
            dz = ws.dz[peak, j]
            if cfg.metrics[m].illness_weight > 0 and np.isfinite(dz) and dz >= cfg.illness.signal_z:
                rule = cfg.metrics[m]
                text = explain_metric(rule, ws.value[peak, j], ws.baseline[peak, j], ws.z[peak, j], 1, cfg.window_days)
                parts.append(text.rsplit(", first day", 1)[0])
                top = max(top, float(dz))
        text = explain_illness(float(score[peak]), parts, int(peak - a + 1))
        out.append(
            Episode(
                "illness",
                days[a].date(),
                days[b].date(),
                float(score[peak]),
                0.0,
                top,
                "up",
                text,
                "illness",
                days[a].date(),
            )
        )
    return out


def detect(daily: pd.DataFrame, rules: MetricRules | None = None) -> DetectionResult:
    """Detect anomalies in one patient's daily metrics.

    Args:
        daily: long frame (day, metric, value) or wide frame (day + one column per metric). Metrics
            without a rule are ignored; duplicate (day, metric) rows are averaged.
        rules: metric rules; the packaged defaults when None.

    Returns:
        DetectionResult with per_day (day, metric, value, baseline, band_low, band_high, robust_z,
        is_anomaly, explanation), episodes (metric and illness) and illness (day, score, is_alert).
    """
    cfg = rules or load_rules()
    long = _long_form(daily)
    long = long[long["metric"].isin(list(cfg.metrics))]
    if long.empty:
        return DetectionResult(
            per_day=pd.DataFrame(
                columns=[
                    "day",
                    "metric",
                    "value",
                    "baseline",
                    "band_low",
                    "band_high",
                    "robust_z",
                    "is_anomaly",
                    "explanation",
                ]
            )
        )
    present = set(long["metric"].unique())
    metrics = [m for m in cfg.metrics if m in present]
    days = pd.date_range(long["day"].min(), long["day"].max(), freq="D")
    wide = long.pivot_table(index="day", columns="metric", values="value", aggfunc="mean").reindex(
        index=days, columns=metrics
    )
    raw = wide.to_numpy(dtype=float)
    ws = score_wide(raw, [cfg.metrics[m] for m in metrics], cfg)

    ti, mj = np.nonzero(~np.isnan(raw))
    order = np.lexsort((ti, mj))
    ti, mj = ti[order], mj[order]
    per_day = pd.DataFrame(
        {
            "day": days[ti],
            "metric": np.array(metrics, dtype=object)[mj],
            "value": raw[ti, mj],
            "baseline": ws.baseline[ti, mj],
            "band_low": ws.band_low[ti, mj],
            "band_high": ws.band_high[ti, mj],
            "robust_z": ws.z[ti, mj],
            "is_anomaly": ws.anomaly[ti, mj],
        }
    )
    per_day["explanation"] = [
        explain_metric(
            cfg.metrics[metrics[j]], ws.value[t, j], ws.baseline[t, j], ws.z[t, j], int(ws.run[t, j]), cfg.window_days
        )
        if ws.anomaly[t, j]
        else ""
        for t, j in zip(ti, mj, strict=True)
    ]
    score, alert = illness_score({m: ws.dz[:, [j]] for j, m in enumerate(metrics)}, cfg)
    illness = pd.DataFrame({"day": days, "score": score[:, 0], "is_alert": alert[:, 0]})
    episodes = [e for j, m in enumerate(metrics) for e in _episodes_of(ws, j, m, days, cfg)]
    episodes += _illness_episodes(score[:, 0], alert[:, 0], ws, metrics, days, cfg)
    episodes.sort(key=lambda e: (e.start_day, e.kind, e.metric))
    return DetectionResult(per_day=per_day, episodes=episodes, illness=illness)


def detect_many(daily: pd.DataFrame, rules: MetricRules | None = None) -> pd.DataFrame:
    """Score many patients at once (vectorised over patients and metrics).

    Args:
        daily: long frame with columns patient_id, day, metric, value (or wide: patient_id, day and
            one column per metric). Metrics without a rule are ignored; for duplicate
            (patient, day, metric) rows the last one wins.
        rules: metric rules; the packaged defaults when None.

    Returns:
        One row per scored input value: patient_id, day, metric, robust_z, is_anomaly, illness_score
        (the patient's combined illness score on that day).
    """
    if "patient_id" not in daily.columns:
        raise ValidationFailed("detect_many needs a 'patient_id' column; use detect() for a single patient.")
    cfg = rules or load_rules()
    long = _long_form(daily, extra=("patient_id",))
    long = long[long["metric"].isin(list(cfg.metrics))]
    present = set(long["metric"].unique())
    metrics = [m for m in cfg.metrics if m in present]
    cols = ["patient_id", "day", "metric", "robust_z", "is_anomaly", "illness_score"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    n_m = len(metrics)
    raw_m_code, m_names = pd.factorize(long["metric"])
    m_code = np.array([metrics.index(m) for m in m_names], dtype=np.int64)[raw_m_code]
    p_code, patients = pd.factorize(long["patient_id"])
    day_int = long["day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    t_idx = day_int - day_int.min()
    n_t = int(t_idx.max()) + 1
    values = long["value"].to_numpy(dtype=float)

    z_out = np.full(len(long), np.nan)
    a_out = np.zeros(len(long), dtype=bool)
    s_out = np.zeros(len(long))
    rule_list = [cfg.metrics[m] for m in metrics]
    by_chunk = p_code // _PATIENT_CHUNK
    for chunk in np.unique(by_chunk):
        rows = np.flatnonzero(by_chunk == chunk)
        local_p = p_code[rows] - chunk * _PATIENT_CHUNK
        n_p = int(local_p.max()) + 1
        x = np.full((n_t, n_p * n_m), np.nan)
        col = local_p * n_m + m_code[rows]
        x[t_idx[rows], col] = values[rows]
        ws = score_wide(x, rule_list * n_p, cfg)
        score, _ = illness_score({m: ws.dz[:, j::n_m] for j, m in enumerate(metrics)}, cfg)
        z_out[rows] = ws.z[t_idx[rows], col]
        a_out[rows] = ws.anomaly[t_idx[rows], col]
        s_out[rows] = score[t_idx[rows], local_p]
    return pd.DataFrame(
        {
            # categoricals: millions of rows without millions of Python strings
            "patient_id": pd.Categorical.from_codes(p_code, categories=patients),
            "day": long["day"].to_numpy(),
            "metric": pd.Categorical.from_codes(m_code, categories=metrics),
            "robust_z": z_out,
            "is_anomaly": a_out,
            "illness_score": s_out,
        }
    )
