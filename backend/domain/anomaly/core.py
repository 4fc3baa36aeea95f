"""The detection rules applied to a wide array of daily values (rows = days, columns = series).

Two passes keep the baseline clean: pass 1 finds candidate days against the plain trailing
baseline; pass 2 recomputes the baseline with those candidate days left out, so a multi-day
illness does not drag its own baseline along. Both passes only look backwards (causal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.domain.anomaly.robust import run_length, trailing_stats
from backend.domain.anomaly.rules import MetricRule, MetricRules


@dataclass
class WideScores:
    """Per-day, per-series arrays (T, S) of the detector's intermediate and final figures."""

    value: np.ndarray
    baseline: np.ndarray
    sd: np.ndarray
    z: np.ndarray  # signed robust z
    dz: np.ndarray  # directional z: positive = clinically worse
    candidate: np.ndarray  # passes z and absolute thresholds today
    run: np.ndarray  # consecutive candidate days ending today
    anomaly: np.ndarray  # flagged today (persistence met or extreme)
    band_low: np.ndarray
    band_high: np.ndarray


def _params(rules: list[MetricRule]) -> dict[str, np.ndarray]:
    return {
        "sign": np.array([r.sign for r in rules]),
        "thr": np.array([r.z_threshold for r in rules]),
        "min_abs": np.array([r.min_abs_dev for r in rules]),
        "min_sd": np.array([r.min_sd for r in rules]),
        "persist": np.array([r.persistence for r in rules]),
        "extreme": np.array([r.extreme_z for r in rules]),
        "low": np.array([r.plausible[0] for r in rules]),
        "high": np.array([r.plausible[1] for r in rules]),
    }


def _judge(x_base: np.ndarray, x: np.ndarray, p: dict[str, np.ndarray], cfg: MetricRules) -> tuple[np.ndarray, ...]:
    """Score ``x`` against the trailing baseline of ``x_base``: (median, sd, dz, dev, candidate)."""
    med, sd, cnt = trailing_stats(x_base, cfg.window_days)
    sd = np.fmax(sd, p["min_sd"])
    enough = cnt >= cfg.min_history_days
    med = np.where(enough, med, np.nan)
    sd = np.where(enough, sd, np.nan)
    with np.errstate(invalid="ignore"):
        dev = (x - med) * p["sign"]
        dz = dev / sd
        cand = (dz >= p["thr"]) & (dev >= p["min_abs"])  # NaN compares False
    return med, sd, dz, dev, cand


def score_wide(x: np.ndarray, rules: list[MetricRule], cfg: MetricRules) -> WideScores:
    """Apply the metric rules column by column.

    Args:
        x: (T, S) daily values, NaN for missing; T consecutive days.
        rules: the rule of each column.
        cfg: baseline window and minimum history.
    """
    p = _params(rules)
    x = np.where((x < p["low"]) | (x > p["high"]), np.nan, x)  # implausible = sensor error
    *_, cand1 = _judge(x, x, p, cfg)
    med, sd, dz, _, cand = _judge(np.where(cand1, np.nan, x), x, p, cfg)
    run = run_length(cand)
    anomaly = cand & ((run >= p["persist"]) | (dz >= p["extreme"]))
    reach = np.fmax(p["thr"] * sd, p["min_abs"])
    return WideScores(
        value=x,
        baseline=med,
        sd=sd,
        z=dz * p["sign"],
        dz=dz,
        candidate=cand,
        run=run,
        anomaly=anomaly,
        band_low=med - reach,
        band_high=med + reach,
    )


def illness_score(dz_by_metric: dict[str, np.ndarray], cfg: MetricRules) -> tuple[np.ndarray, np.ndarray]:
    """Combined illness score in 0..1 and its alert flag from the directional z of the illness metrics.

    Args:
        dz_by_metric: metric name -> (T, P) directional z (NaN where unknown); metrics without an
            illness weight are ignored, missing ones count as 0.
        cfg: rules with the illness section.

    Returns:
        (score, alert), each (T, P).
    """
    ill = cfg.illness
    weights = {m: cfg.metrics[m].illness_weight for m in cfg.metrics if cfg.metrics[m].illness_weight > 0}
    total_w = sum(weights.values()) or 1.0
    shape = next(iter(dz_by_metric.values())).shape if dz_by_metric else (0, 0)
    acc = np.zeros(shape)
    signals = np.zeros(shape, dtype=np.int32)
    for metric, w in weights.items():
        dz = dz_by_metric.get(metric)
        if dz is None:
            continue
        dz0 = np.nan_to_num(dz, nan=0.0)
        acc += w * np.clip(dz0, 0.0, ill.z_cap)
        signals += dz0 >= ill.signal_z
    score = acc / (ill.z_cap * total_w)
    qualifies = (score >= ill.alert_score) & (signals >= ill.min_signals)
    alert = qualifies & ((run_length(qualifies) >= ill.persistence) | (score >= ill.extreme_score))
    return score, alert
