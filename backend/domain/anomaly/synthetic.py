"""Synthetic daily wearable metrics with injected illness episodes (tests, demo seeding, benchmark)."""

from __future__ import annotations

import numpy as np
import pandas as pd

ALL_METRICS = ("resting_hr", "hrv", "temperature_dev", "spo2", "sleep_hours", "steps", "respiratory_rate")


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Slow AR(1) drift with stationary SD ``sd`` (weeks-long ups and downs of fitness, season)."""
    eps = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    acc = rng.normal(0.0, sd)
    for i in range(n):
        acc = phi * acc + eps[i]
        out[i] = acc
    return out


def synth_patient_days(
    days: int,
    seed: int,
    episodes: list[tuple[int, int]] | None = None,
    metrics: tuple[str, ...] = ALL_METRICS,
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """Daily values of one synthetic patient in long form.

    Args:
        days: number of consecutive days.
        seed: random seed (the same seed gives the same patient).
        episodes: illness episodes as (first_day, last_day) day indices, inclusive. During an episode
            resting HR rises 8-12 bpm, HRV falls ~25%, skin temperature rises 0.5-1.0 °C, sleep and
            steps fall, respiratory rate rises and SpO2 dips slightly (the first day at 70% strength).
        metrics: which metrics to emit.
        start: ISO date of day 0.

    Returns:
        DataFrame with columns day (datetime64), metric, value.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    effect = np.zeros(days)
    sizes = []
    for first, last in episodes or []:
        lo, hi = max(first, 0), min(last, days - 1)
        if lo > hi:
            continue
        effect[lo : hi + 1] = 1.0
        effect[lo] = 0.7
        sizes.append((lo, hi, rng.uniform(8, 12), rng.uniform(0.5, 1.0)))
    rhr_up = np.zeros(days)
    temp_up = np.zeros(days)
    for lo, hi, d_rhr, d_temp in sizes:
        rhr_up[lo : hi + 1] = d_rhr * effect[lo : hi + 1]
        temp_up[lo : hi + 1] = d_temp * effect[lo : hi + 1]
    weekend = (pd.Timestamp(start).dayofweek + t) % 7 >= 5

    rhr0, hrv0 = rng.normal(60, 6), max(rng.normal(50, 12), 20.0)
    series = {
        "resting_hr": np.round(rhr0 + _ar1(rng, days, 0.97, 1.5) + rng.normal(0, 1.8, days) + rhr_up),
        "hrv": np.round(hrv0 * np.exp(_ar1(rng, days, 0.97, 0.06) + rng.normal(0, 0.09, days)) * (1 - 0.25 * effect)),
        "temperature_dev": np.round(_ar1(rng, days, 0.9, 0.08) + rng.normal(0, 0.12, days) + temp_up, 2),
        "spo2": np.clip(np.round(rng.normal(97, 0.4) + rng.normal(0, 0.7, days) - 1.5 * effect), 85, 100),
        "sleep_hours": np.round(rng.normal(7.2, 0.5) + 0.4 * weekend + rng.normal(0, 0.6, days) - 1.2 * effect, 2).clip(
            2, 12
        ),
        "steps": np.round(
            rng.normal(8000, 1500) * (1 + 0.15 * weekend) * np.exp(rng.normal(0, 0.18, days)) * (1 - 0.55 * effect)
        ),
        "respiratory_rate": np.round(rng.normal(14.5, 1.0) + rng.normal(0, 0.4, days) + 1.5 * effect, 1),
    }
    day_index = pd.date_range(start, periods=days, freq="D")
    frames = [pd.DataFrame({"day": day_index, "metric": m, "value": series[m]}) for m in metrics]
    return pd.concat(frames, ignore_index=True)
