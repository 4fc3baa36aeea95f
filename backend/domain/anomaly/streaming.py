"""Generic univariate streaming anomaly detector (used for the NAB benchmark) and reference detectors.

Causal: the score at row t uses rows up to t only. The series is first made comparable with
itself: when the opening (probation) rows show a clear cycle, the detector works on the seasonal
difference x[t] - x[t - period]. Three robust z-scores are taken against a trailing window
(median and IQR-based SD of the previous rows, never row t): the value itself (spikes and level
shifts), its first difference (sudden jumps) and the short-term mean (slow drifts, changed shape).
After an alarm the detector stays quiet for a while, because one early alarm per event is what an
operator (and NAB) wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Fixed design constants (chosen once, not per file): see the module docstring.
Z_HALF = 5.0  # lowest robust z at which the anomaly score reaches 0.5
MIN_ACF = 0.6  # autocorrelation a cycle needs in the opening rows to be used
SHORT = 3  # rows in the short-term mean
REF_Q = 0.99  # quantile of the series' own past z-scores taken as "usual"
REF_K = 1.5  # an alarm needs a z this many times the usual one
QUIET = 0.5  # rows kept quiet after an alarm, as a multiple of the probation length


@dataclass(frozen=True)
class AlarmParams:
    """The constants that turn z-scores into alarms (what a cross-validation may choose; defaults above)."""

    z_half: float = Z_HALF
    ref_k: float = REF_K
    quiet: float = QUIET


@dataclass(frozen=True)
class StreamFeatures:
    """The costly, parameter-free part of the detector for one series: its z-scores and their usual level."""

    z: np.ndarray
    usual: np.ndarray
    learn: int


def _trailing(s: pd.Series, window: int, min_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and robust SD of the ``window`` rows before each row."""
    past = s.shift(1).rolling(window, min_periods=min_periods)
    med = past.median().to_numpy()
    iqr = (past.quantile(0.75) - past.quantile(0.25)).to_numpy()
    return med, iqr / 1.349


def detect_period(x: np.ndarray, max_lag: int) -> int | None:
    """Dominant cycle length of ``x`` (autocorrelation peak >= MIN_ACF), or None."""
    x = x[~np.isnan(x)]
    if x.size < 8 or max_lag < 4:
        return None
    x = x - x.mean()
    var = float(np.dot(x, x)) / x.size
    if var <= 0:
        return None
    lags = np.arange(2, min(max_lag, x.size // 2) + 1)
    if lags.size == 0:
        return None
    # each lag normalised by its own overlap, so a cycle seen only twice still scores near 1
    acf = np.array([np.dot(x[:-k], x[k:]) / (x.size - k) / var for k in lags])
    # the first local maximum above the bar: the base cycle, not a multiple of it
    for i in range(1, acf.size - 1):
        if acf[i] >= MIN_ACF and acf[i] >= acf[i - 1] and acf[i] >= acf[i + 1]:
            return int(lags[i])
    return None


def _robust_z(s: pd.Series, window: int, floor: float) -> np.ndarray:
    med, sd = _trailing(s, window, min_periods=max(window // 4, 5))
    z = np.abs(s.to_numpy() - med) / np.fmax(sd, floor)
    return np.nan_to_num(z, nan=0.0)


def stream_scores(values: np.ndarray, probation: int, params: AlarmParams = AlarmParams()) -> np.ndarray:
    """Anomaly score in [0, 1] per row (0.5 = the alarm level), causal.

    Args:
        values: the series, in time order (NaN allowed: carried forward).
        probation: rows at the start used to learn the series (window length and cycle); NAB's
            probation length.
        params: the alarm constants (the module's fixed defaults unless a cross-validation chooses).
    """
    return alarm_scores(stream_features(values, probation), params)


def stream_features(values: np.ndarray, probation: int) -> StreamFeatures:
    """z-scores (level, jump, short-term drift; the largest per row) and their usual level, causally."""
    x = pd.Series(np.asarray(values, dtype=float)).ffill().bfill().to_numpy()
    n = x.size
    if n == 0:
        return StreamFeatures(np.zeros(0), np.zeros(0), 0)
    learn = max(min(probation, n), 10)
    window = learn
    period = detect_period(x[:learn], max_lag=learn // 2)
    base = x.copy()
    if period is not None:
        base[period:] = x[period:] - x[:-period]
        base[:period] = np.nan
    scale = float(np.nanpercentile(np.abs(x[:learn] - np.nanmedian(x[:learn])), 75)) if learn else 0.0
    floor = max(scale * 0.02, 1e-6 * (abs(float(np.nanmedian(x[:learn]))) + 1.0), 1e-9)
    s = pd.Series(base)
    z_level = _robust_z(s, window, floor)
    z_diff = _robust_z(s.diff(), window, floor)
    short_mean = s.rolling(SHORT, min_periods=SHORT).mean()
    z_short = _robust_z(short_mean, window, floor / np.sqrt(SHORT))
    z = np.fmax(np.fmax(z_level, z_diff), z_short)
    # self-calibration: how extreme is today's z against the z-scores this series usually shows?
    usual = pd.Series(z).shift(1).expanding(min_periods=max(learn // 2, 5)).quantile(REF_Q).to_numpy()
    return StreamFeatures(z=z, usual=usual, learn=learn)


def alarm_scores(features: StreamFeatures, params: AlarmParams = AlarmParams()) -> np.ndarray:
    """Scores in [0, 1] from precomputed features: cheap, so many ``params`` can be tried on one series."""
    if features.z.size == 0:
        return np.zeros(0)
    half = np.fmax(params.z_half, params.ref_k * np.nan_to_num(features.usual, nan=np.inf))
    score = features.z**2 / (features.z**2 + half**2)
    return _suppress(score, quiet=int(params.quiet * features.learn))


def _suppress(score: np.ndarray, quiet: int, level: float = 0.5) -> np.ndarray:
    """Keep the first alarm and damp the following ``quiet`` rows below the alarm level."""
    out = score.copy()
    t = 0
    n = out.size
    while t < n:
        hits = np.flatnonzero(out[t:] >= level)
        if hits.size == 0:
            break
        t0 = t + int(hits[0])
        end = min(t0 + 1 + quiet, n)
        out[t0 + 1 : end] = np.minimum(out[t0 + 1 : end], level * 0.98) * 0.98
        t = end
    return out


def rolling_zscore_scores(values: np.ndarray, window: int, sigma: float = 3.0) -> np.ndarray:
    """Reference detector: 1.0 where |x - mean| > sigma * SD of the previous ``window`` rows, else 0."""
    s = pd.Series(np.asarray(values, dtype=float))
    past = s.shift(1).rolling(window, min_periods=max(window // 4, 2))
    z = np.abs(s - past.mean()) / past.std()
    return (np.nan_to_num(z.to_numpy(), nan=0.0, posinf=0.0) > sigma).astype(float)


def random_scores(n: int, seed: int) -> np.ndarray:
    """Reference detector: uniform random scores with a fixed seed."""
    return np.random.default_rng(seed).random(n)
