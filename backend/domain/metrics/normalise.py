"""Canonical names, unit conversion, plausibility and de-duplication of sample frames (vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backend.domain.metrics.catalog import MetricCatalog
from backend.domain.metrics.report import MAX_LISTED_REJECTIONS, ImportLog
from backend.domain.metrics.samples import SAMPLE_COLUMNS, empty_frame


def assign_patient(frame: pd.DataFrame, patient_id: str | None, log: ImportLog) -> pd.DataFrame:
    """Fill or check the patient of every row.

    With ``patient_id`` (the patient chosen in the UI) rows without one get it and rows naming
    another patient are rejected; without it, every row must name its patient.
    """
    ids = frame["patient_id"].fillna("").astype("str").str.strip()
    if patient_id is not None:
        ids = ids.mask(ids == "", patient_id)
        bad = (ids != patient_id).to_numpy()
        _reject(frame, bad, lambda r: f"patient_id '{r}' is not the selected patient ({patient_id})", ids, log)
    else:
        bad = (ids == "").to_numpy()
        _reject(frame, bad, lambda r: "no patient_id on this row", ids, log)
    out = frame.loc[~bad].copy()
    out["patient_id"] = ids[~bad]
    return out


def normalise(frame: pd.DataFrame, catalog: MetricCatalog, log: ImportLog) -> pd.DataFrame:
    """Canonical metric names, canonical units, plausible values only.

    Unknown metric names are listed in the log (not per line); rows with an unknown unit or an
    impossible value are rejected with the reason. Returns the clean frame.
    """
    if frame.empty:
        return empty_frame()
    unreadable = (frame["ts"].isna() | frame["value"].isna()).to_numpy()
    if unreadable.any():
        _reject_idx(frame, np.flatnonzero(unreadable), "time or value cannot be read", log)
        frame = frame.loc[~unreadable]
    # Factorize once: a file has a handful of distinct metric names and units, not a million.
    raw_codes, raw_uniques = pd.factorize(frame["metric"].astype("str"))
    canonical_of = [catalog.canonical(str(raw)) for raw in raw_uniques]
    categories = sorted({m for m in canonical_of if m})
    code_map = np.array([categories.index(m) if m else -1 for m in canonical_of] + [-1], dtype="int64")
    codes = code_map[raw_codes]  # raw code -1 (missing name) maps to the trailing -1
    known = codes >= 0
    if not known.all():
        counts = np.bincount(raw_codes[(~known) & (raw_codes >= 0)], minlength=len(raw_uniques))
        for i in np.flatnonzero(counts):
            log.unknown_metric(str(raw_uniques[i]), int(counts[i]))
    frame = frame.loc[known].copy()
    if frame.empty:
        return empty_frame()
    frame["metric"] = pd.Categorical.from_codes(codes[known], categories=categories)

    values = frame["value"].to_numpy(dtype="float64").copy()
    keep = np.ones(len(frame), dtype=bool)
    metric_codes = frame["metric"].cat.codes.to_numpy().astype("int64")
    unit_codes, unit_uniques = pd.factorize(frame["unit"].fillna("").astype("str"))
    width = len(unit_uniques) + 1
    pair = metric_codes * width + unit_codes
    for key in np.unique(pair):
        idx = np.flatnonzero(pair == key)
        metric = categories[int(key) // width]
        unit_raw = str(unit_uniques[int(key) % width]).strip()
        unit = unit_raw.lower()
        spec = catalog.metrics[metric]
        conv = spec.units.get(unit)
        if conv is None:
            keep[idx] = False
            accepted = ", ".join(sorted(u for u in spec.units if u)) or spec.unit
            _reject_idx(frame, idx, f"unit '{unit_raw}' is not a unit of {metric} (use {accepted})", log)
            continue
        v = values[idx]
        if spec.fraction_to_percent and conv == (1.0, 0.0):
            v = np.where(v <= 1.0, v * 100.0, v)
        values[idx] = v * conv[0] + conv[1]
    frame["value"] = values

    low = np.array([catalog.metrics[m].plausible[0] for m in categories])[metric_codes]
    high = np.array([catalog.metrics[m].plausible[1] for m in categories])[metric_codes]
    impossible = keep & ((values < low) | (values > high) | ~np.isfinite(values))
    if impossible.any():
        where = np.flatnonzero(impossible)
        listed = where[:MAX_LISTED_REJECTIONS]
        reasons = [_range_reason(catalog, categories[metric_codes[i]], float(values[i])) for i in listed]
        log.reject_many(frame["line"].to_numpy()[listed].tolist(), reasons, total=len(where))
        keep &= ~impossible
    return frame.loc[keep, SAMPLE_COLUMNS]


def deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop repeated readings (same patient, metric, instant and source; the later row wins)."""
    before = len(frame)
    # Integer codes instead of strings: hashing four int columns is several times faster.
    keys = pd.DataFrame(
        {
            "p": pd.factorize(frame["patient_id"])[0],
            "m": pd.factorize(frame["metric"])[0],
            "t": frame["ts"].array.asi8,
            "s": pd.factorize(frame["source"])[0],
        }
    )
    out = frame.loc[~keys.duplicated(keep="last").to_numpy()]
    return out, before - len(out)


def _range_reason(catalog: MetricCatalog, metric: str, value: float) -> str:
    spec = catalog.metrics[metric]
    low, high = spec.plausible
    reason = f"{spec.label} {value:g} {spec.unit} is impossible (plausible {low:g}–{high:g} {spec.unit})"
    if metric == "temperature" and 80.0 <= value <= 115.0:
        reason += "; if it is °F, give the unit °F"
    if metric == "spo2" and value > 100.0:
        reason += "; SpO2 cannot exceed 100 %"
    return reason


def _reject(frame: pd.DataFrame, bad: np.ndarray, reason_of: object, raw: pd.Series, log: ImportLog) -> None:
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    listed = where[:MAX_LISTED_REJECTIONS]
    reasons = [reason_of(raw.iloc[i]) for i in listed]  # type: ignore[operator]
    log.reject_many(frame["line"].to_numpy()[listed].tolist(), reasons, total=len(where))


def _reject_idx(frame: pd.DataFrame, idx: np.ndarray, reason: str, log: ImportLog) -> None:
    listed = idx[:MAX_LISTED_REJECTIONS]
    log.reject_many(frame["line"].to_numpy()[listed].tolist(), [reason] * len(listed), total=len(idx))
