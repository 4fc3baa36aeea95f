"""From samples to one value per patient, metric and day (pandas, vectorised).

The day of a sample is its local calendar date in the import's time zone. "Night" is
00:00–06:00 local, so a night belongs to the day one wakes up on. Rules per metric come from
``metrics.toml`` (``daily``):

* ``mean`` — mean of the day (SpO2, recovery/movement index, a given temperature_dev).
* ``night_mean`` — mean of the night's samples, or of the whole day when there are none at night
  (HRV, temperature, respiratory rate; a daily value from a wide CSV therefore stays as it is).
* ``sum`` — per source the day's sum, then the largest source (steps counted by a phone *and* a
  watch are the same steps; sleep intervals are merged per source by the importers).
* ``rest`` — resting HR: mean of resting-HR samples (``night_rhr``, Apple/FHIR resting HR); days
  without them use the 10th percentile of the night's heart rate (at least 3 readings), else the
  5th percentile of the day's heart rate.

temperature_dev is derived from the stored nightly temperature by :func:`temperature_deviation`:
the night's value minus the median of the patient's previous nights (up to ``window_nights``,
at least ``min_nights``). It is causal: importing later nights never changes an earlier day.
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pandas as pd

from backend.domain.metrics.catalog import MetricCatalog

DAY_COLUMNS = ["patient_id", "metric", "day", "value", "unit", "n_samples"]
NIGHT_END_HOUR = 6
_MIN_NIGHT_HR = 3


def empty_days() -> pd.DataFrame:
    """A daily frame with no rows."""
    return pd.DataFrame(
        {
            c: pd.Series(dtype="float64" if c == "value" else "int64" if c == "n_samples" else "object")
            for c in DAY_COLUMNS
        }
    )


def daily_aggregates(frame: pd.DataFrame, catalog: MetricCatalog, tz: str | tzinfo = "UTC") -> pd.DataFrame:
    """Aggregate a clean sample frame (canonical names and units) to daily rows.

    Returns a frame with :data:`DAY_COLUMNS`, ``day`` as ISO date strings, sorted by patient, metric, day.
    """
    if frame.empty:
        return empty_days()
    local = frame["ts"].dt.tz_convert(tz)
    metric = frame["metric"].astype("category")
    work = pd.DataFrame(
        {
            "patient_id": frame["patient_id"].astype("category"),
            "metric": metric,
            "day": local.dt.tz_localize(None).dt.floor("D"),
            "night": local.dt.hour < NIGHT_END_HOUR,
            "value": frame["value"].astype("float64"),
            "source": frame["source"].astype("category"),
        }
    ).reset_index(drop=True)
    kinds = np.array([catalog.metrics[m].daily for m in metric.cat.categories], dtype=object)
    kind = kinds[metric.cat.codes.to_numpy()]
    parts = [
        _mean(work[kind == "mean"]),
        _night_mean(work[kind == "night_mean"]),
        _sum(work[kind == "sum"]),
        _resting(work[kind == "rest"], work[(work["metric"] == "heart_rate").to_numpy()]),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_days()
    days = pd.concat(parts, ignore_index=True)
    days["patient_id"] = days["patient_id"].astype("str")
    days["metric"] = days["metric"].astype("str")
    days["unit"] = days["metric"].map({m: s.unit for m, s in catalog.metrics.items()})
    days["day"] = pd.to_datetime(days["day"]).dt.strftime("%Y-%m-%d")
    days["value"] = days["value"].round(3)
    days["n_samples"] = days["n_samples"].astype("int64")
    return days.sort_values(["patient_id", "metric", "day"], ignore_index=True)[DAY_COLUMNS]


_KEYS = ["patient_id", "metric", "day"]


def _mean(work: pd.DataFrame) -> pd.DataFrame:
    if work.empty:
        return empty_days()
    out = work.groupby(_KEYS, sort=False, observed=True)["value"].agg(value="mean", n_samples="size").reset_index()
    return out


def _night_mean(work: pd.DataFrame) -> pd.DataFrame:
    if work.empty:
        return empty_days()
    night_value = work["value"].where(work["night"])
    g = work.assign(night_value=night_value).groupby(_KEYS, sort=False, observed=True)
    agg = g.agg(
        all_mean=("value", "mean"),
        all_n=("value", "size"),
        night_mean=("night_value", "mean"),
        night_n=("night_value", "count"),
    )
    has_night = agg["night_n"] > 0
    agg["value"] = np.where(has_night, agg["night_mean"], agg["all_mean"])
    agg["n_samples"] = np.where(has_night, agg["night_n"], agg["all_n"])
    return agg[["value", "n_samples"]].reset_index()


def _sum(work: pd.DataFrame) -> pd.DataFrame:
    if work.empty:
        return empty_days()
    per_source = work.groupby([*_KEYS, "source"], sort=False, observed=True)["value"].agg(["sum", "size"]).reset_index()
    g = per_source.groupby(_KEYS, sort=False, observed=True)
    out = g.agg(value=("sum", "max"), n_samples=("size", "sum")).reset_index()
    return out


def _resting(rest: pd.DataFrame, hr: pd.DataFrame) -> pd.DataFrame:
    direct = _mean(rest)
    if hr.empty:
        return direct
    night = hr[hr["night"]]
    g_night = night.groupby(["patient_id", "day"], sort=False, observed=True)["value"]
    from_night = pd.DataFrame({"value": g_night.quantile(0.10), "n_samples": g_night.size()})
    from_night = from_night[from_night["n_samples"] >= _MIN_NIGHT_HR]
    g_all = hr.groupby(["patient_id", "day"], sort=False, observed=True)["value"]
    from_day = pd.DataFrame({"value": g_all.quantile(0.05), "n_samples": g_all.size()})
    derived = pd.concat([from_night, from_day[~from_day.index.isin(from_night.index)]]).reset_index()
    derived["metric"] = "resting_hr"
    if not direct.empty:
        have = pd.MultiIndex.from_frame(direct[["patient_id", "day"]])
        derived = derived[~pd.MultiIndex.from_frame(derived[["patient_id", "day"]]).isin(have)]
    return pd.concat([direct, derived[[*_KEYS, "value", "n_samples"]]], ignore_index=True)


def temperature_deviation(temperature_days: pd.DataFrame, window_nights: int = 28, min_nights: int = 3) -> pd.DataFrame:
    """temperature_dev rows from nightly temperature rows (columns patient_id, day, value).

    Each night's value minus the median of the patient's previous ``window_nights`` nights with
    data; nights with fewer than ``min_nights`` before them get no deviation.
    """
    if temperature_days.empty:
        return empty_days()
    t = temperature_days.sort_values(["patient_id", "day"], ignore_index=True)
    baseline = t.groupby("patient_id", sort=False)["value"].transform(
        lambda s: s.shift(1).rolling(window_nights, min_periods=min_nights).median()
    )
    out = t.assign(value=(t["value"] - baseline).round(3), metric="temperature_dev", unit="°C", n_samples=1)
    return out.loc[baseline.notna(), DAY_COLUMNS].reset_index(drop=True)
