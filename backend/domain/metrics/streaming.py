"""Daily aggregates built as the sample frames stream in, so an import never holds all its samples.

Every rule of :mod:`backend.domain.metrics.daily` is kept as sums that can be added block by block:

* per patient, metric, day, source and night-or-not: the sum and count of the values (means,
  night means, per-source sums and the resting-HR mean all follow from these);
* per patient, day and night-or-not: how often each heart-rate value occurred, so the 10th / 5th
  percentiles of the derived resting HR are exact (heart rates repeat: a day has a few hundred
  distinct values however many readings it has).

De-duplication (same patient, metric, instant and source; the later row wins) needs to remember
each instant already seen: per patient, metric and source a few sorted arrays of instants and their
values, 16 bytes a sample instead of a frame row. A later duplicate subtracts the earlier value
from the sums and adds its own, so the result is the one :func:`daily_aggregates` gives on the whole
file. :data:`MAX_SAMPLES` caps what one import may hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo

import numpy as np
import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics.catalog import MetricCatalog
from backend.domain.metrics.daily import _MIN_NIGHT_HR, DAY_COLUMNS, NIGHT_END_HOUR, empty_days

MAX_SAMPLES = 10_000_000  # years of a watch's heart rate are a few million; the instants index is 16 B a sample
_SUM_KEYS = ["patient_id", "metric", "day", "source", "night"]
_HR_KEYS = ["patient_id", "day", "night", "value"]
_COMPACT_EVERY = 8  # partial tables kept before they are summed into one
_MERGE_CHUNKS = 16  # sorted instant arrays per series before they are merged into one


@dataclass
class _Series:
    """The instants (and their values) seen for one patient, metric and source, as sorted chunks."""

    chunks: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def replace(self, ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Record ``ts`` (unique, any order); return (mask of those seen before, their earlier values)."""
        seen = np.zeros(len(ts), dtype=bool)
        old = np.zeros(len(ts), dtype="float64")
        lo, hi = ts.min(), ts.max()
        for chunk_ts, chunk_values in self.chunks:
            if chunk_ts[0] > hi or chunk_ts[-1] < lo:
                continue  # time-ordered files: blocks rarely overlap, so most chunks are skipped here
            idx = np.searchsorted(chunk_ts, ts)
            inside = idx < len(chunk_ts)
            hit = np.zeros(len(ts), dtype=bool)
            hit[inside] = chunk_ts[idx[inside]] == ts[inside]
            if hit.any():
                old[hit] = chunk_values[idx[hit]]
                chunk_values[idx[hit]] = values[hit]  # the later row wins
                seen |= hit
        fresh = ~seen
        if fresh.any():
            order = np.argsort(ts[fresh], kind="stable")
            self.chunks.append((ts[fresh][order], values[fresh][order].astype("float64")))
            if len(self.chunks) > _MERGE_CHUNKS:
                all_ts = np.concatenate([c[0] for c in self.chunks])
                all_values = np.concatenate([c[1] for c in self.chunks])
                order = np.argsort(all_ts, kind="stable")
                self.chunks = [(all_ts[order], all_values[order])]
        return seen, old


@dataclass
class DailyAccumulator:
    """Feed clean sample frames (canonical names and units) with :meth:`add`; :meth:`days` gives the daily rows.

    Args:
        catalog: the metric rules.
        tz: the zone that dates the days, or a function giving it, asked at the first sample (an importer
            learns the file's own zone while it reads its first block).
        max_samples: more samples than this in one import raise :class:`UnsupportedInput`.
    """

    catalog: MetricCatalog
    tz: str | tzinfo | Callable[[], str | tzinfo] = "UTC"
    max_samples: int = MAX_SAMPLES
    samples_seen: int = 0
    duplicates: int = 0
    _zone: str | tzinfo | None = None
    _sums: list[pd.DataFrame] = field(default_factory=list)
    _hr: list[pd.DataFrame] = field(default_factory=list)
    _series: dict[tuple[str, str, str], _Series] = field(default_factory=dict)

    def add(self, frame: pd.DataFrame) -> None:
        """Add one clean frame (de-duplicated here, against itself and everything added before)."""
        if frame.empty:
            return
        self.samples_seen += len(frame)
        if self.samples_seen > self.max_samples:
            raise UnsupportedInput(
                f"This file holds more than {self.max_samples:,} readings, more than one import takes. "
                "Export a shorter period (or split the file) and import the parts one after another."
            )
        if self._zone is None:
            self._zone = self.tz() if callable(self.tz) else self.tz
        keys = pd.DataFrame(
            {
                "p": frame["patient_id"].to_numpy(),
                "m": frame["metric"].to_numpy(),
                "s": frame["source"].to_numpy(),
                "t": frame["ts"].array.asi8,
            }
        )
        last = ~keys.duplicated(keep="last").to_numpy()
        self.duplicates += int((~last).sum())
        frame, keys = frame.loc[last], keys.loc[last]
        earlier = np.zeros(len(frame), dtype=bool)
        old_values = np.zeros(len(frame), dtype="float64")
        values = frame["value"].to_numpy(dtype="float64")
        for (p, m, s), rows in keys.groupby(["p", "m", "s"], sort=False).indices.items():
            series = self._series.setdefault((str(p), str(m), str(s)), _Series())
            seen, old = series.replace(keys["t"].to_numpy()[rows], values[rows])
            earlier[rows[seen]] = True
            old_values[rows[seen]] = old[seen]
        if earlier.any():
            self.duplicates += int(earlier.sum())
            self._partials(frame.loc[earlier].assign(value=old_values[earlier]), weight=-1)
        self._partials(frame, weight=1)

    def _partials(self, frame: pd.DataFrame, weight: int) -> None:
        local = frame["ts"].dt.tz_convert(self._zone)
        work = pd.DataFrame(
            {
                "patient_id": frame["patient_id"].to_numpy(),
                "metric": frame["metric"].to_numpy(),
                "day": local.dt.tz_localize(None).dt.floor("D").to_numpy(),
                "source": frame["source"].to_numpy(),
                "night": (local.dt.hour < NIGHT_END_HOUR).to_numpy(),
                "value": frame["value"].to_numpy(dtype="float64"),
            }
        )
        sums = work.groupby(_SUM_KEYS, sort=False)["value"].agg(["sum", "size"]).reset_index()
        self._sums.append(sums.assign(sum=sums["sum"] * weight, size=sums["size"] * weight))
        hr = work[work["metric"].to_numpy() == "heart_rate"]
        if not hr.empty:
            self._hr.append(hr.groupby(_HR_KEYS, sort=False).size().mul(weight).rename("n").reset_index())
        if len(self._sums) > _COMPACT_EVERY:
            self._sums = [_compact(self._sums, _SUM_KEYS, ["sum", "size"])]
        if len(self._hr) > _COMPACT_EVERY:
            self._hr = [_compact(self._hr, _HR_KEYS, ["n"])]

    def patient_ids(self) -> list[str]:
        """The patients of the samples added, sorted."""
        return sorted({p for p, _, _ in self._series})

    @property
    def samples(self) -> int:
        """Valid samples after de-duplication."""
        return self.samples_seen - self.duplicates

    def days(self) -> pd.DataFrame:
        """The daily rows so far (:data:`DAY_COLUMNS`, ``day`` as ISO dates, sorted), as daily_aggregates gives."""
        if not self._sums:
            return empty_days()
        sums = _compact(self._sums, _SUM_KEYS, ["sum", "size"])
        sums = sums[sums["size"] > 0]
        kinds = {m: self.catalog.metrics[m].daily for m in sums["metric"].unique()}
        kind = sums["metric"].map(kinds)
        parts = [
            _means(sums[kind == "mean"]),
            _night_means(sums[kind == "night_mean"]),
            _source_sums(sums[kind == "sum"]),
            _resting(sums[kind == "rest"], _compact(self._hr, _HR_KEYS, ["n"]) if self._hr else None),
        ]
        parts = [p for p in parts if not p.empty]
        if not parts:
            return empty_days()
        days = pd.concat(parts, ignore_index=True)
        days["patient_id"] = days["patient_id"].astype("str")
        days["metric"] = days["metric"].astype("str")
        days["unit"] = days["metric"].map({m: s.unit for m, s in self.catalog.metrics.items()})
        days["day"] = pd.to_datetime(days["day"]).dt.strftime("%Y-%m-%d")
        days["value"] = days["value"].astype("float64").round(3)
        days["n_samples"] = days["n_samples"].astype("int64")
        return days.sort_values(["patient_id", "metric", "day"], ignore_index=True)[DAY_COLUMNS]


def _compact(parts: list[pd.DataFrame], keys: list[str], columns: list[str]) -> pd.DataFrame:
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return table.groupby(keys, sort=False)[columns].sum().reset_index()


_DAY_KEYS = ["patient_id", "metric", "day"]


def _means(sums: pd.DataFrame) -> pd.DataFrame:
    g = sums.groupby(_DAY_KEYS, sort=False)[["sum", "size"]].sum()
    return pd.DataFrame({"value": g["sum"] / g["size"], "n_samples": g["size"]}).reset_index()


def _night_means(sums: pd.DataFrame) -> pd.DataFrame:
    all_ = sums.groupby(_DAY_KEYS, sort=False)[["sum", "size"]].sum()
    night = sums[sums["night"]].groupby(_DAY_KEYS, sort=False)[["sum", "size"]].sum().reindex(all_.index)
    has_night = night["size"].fillna(0) > 0
    value = np.where(has_night, night["sum"] / night["size"], all_["sum"] / all_["size"])
    n = np.where(has_night, night["size"].fillna(0), all_["size"])
    return pd.DataFrame({"value": value, "n_samples": n}, index=all_.index).reset_index()


def _source_sums(sums: pd.DataFrame) -> pd.DataFrame:
    per_source = sums.groupby([*_DAY_KEYS, "source"], sort=False)[["sum", "size"]].sum().reset_index()
    g = per_source.groupby(_DAY_KEYS, sort=False)
    return g.agg(value=("sum", "max"), n_samples=("size", "sum")).reset_index()


def _quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The linear-interpolation quantile of ``values`` repeated ``counts`` times (numpy's default method)."""
    order = np.argsort(values)
    values, cumulative = values[order], np.cumsum(counts[order])
    h = (cumulative[-1] - 1) * q
    k = int(np.floor(h))
    lo = values[np.searchsorted(cumulative, k, side="right")]
    hi = values[np.searchsorted(cumulative, min(k + 1, cumulative[-1] - 1), side="right")]
    return float(lo + (h - k) * (hi - lo))


def _resting(rest: pd.DataFrame, hr: pd.DataFrame | None) -> pd.DataFrame:
    direct = _means(rest) if not rest.empty else empty_days()
    if hr is None:
        return direct
    hr = hr[hr["n"] > 0]
    have = set(zip(direct["patient_id"], direct["day"], strict=True)) if not direct.empty else set()
    rows = []
    for (patient, day), group in hr.groupby(["patient_id", "day"], sort=False):
        if (patient, day) in have:
            continue
        night = group[group["night"]]
        night_n = int(night["n"].sum())
        if night_n >= _MIN_NIGHT_HR:
            value, n = _quantile(night["value"].to_numpy(), night["n"].to_numpy(), 0.10), night_n
        else:
            value, n = _quantile(group["value"].to_numpy(), group["n"].to_numpy(), 0.05), int(group["n"].sum())
        rows.append((patient, "resting_hr", day, value, n))
    derived = pd.DataFrame(rows, columns=[*_DAY_KEYS, "value", "n_samples"])
    return pd.concat([p for p in (direct, derived) if not p.empty], ignore_index=True) if rows else direct
