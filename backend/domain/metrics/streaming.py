"""Daily aggregates built as the sample frames stream in, so an import never holds all its samples.

Every rule of :mod:`backend.domain.metrics.daily` is kept as sums that can be added block by block:

* per patient, metric, day, source and night-or-not: the sum and count of the values (means,
  night means, per-source sums and the resting-HR mean all follow from these);
* per patient, day and night-or-not: how often each heart-rate value occurred, so the 10th / 5th
  percentiles of the derived resting HR are exact (heart rates repeat: a day has a few hundred
  distinct values however many readings it has).

De-duplication (same patient, metric, instant and source; the later row wins) needs to remember
each instant already seen: per patient, metric and source, sorted arrays of instants and their
values, one per block (time-ordered files never copy them; overlapping ones are merged), 16 bytes a
sample instead of a frame row. A later duplicate subtracts the earlier value
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
_MERGE_CHUNKS = 16  # overlapping sorted instant arrays of a series before they are merged into one


@dataclass
class _Series:
    """The instants (and their values) seen for one patient, metric and source, as sorted chunks."""

    chunks: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def replace(self, ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Record ``ts`` (unique, any order); return (mask of those seen before, their earlier values)."""
        seen = np.zeros(len(ts), dtype=bool)
        old = np.zeros(len(ts), dtype="float64")
        lo, hi = ts.min(), ts.max()
        overlapping = []
        for n, (chunk_ts, chunk_values) in enumerate(self.chunks):
            if chunk_ts[0] > hi or chunk_ts[-1] < lo:
                continue  # time-ordered files: blocks rarely overlap, so most chunks are skipped here
            overlapping.append(n)
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
            if len(overlapping) >= _MERGE_CHUNKS:
                # Unordered input: many chunks cover the same time, so merge those (with the new one) into one,
                # and later blocks search one array. Disjoint chunks of ordered input are never copied.
                self._merge([*overlapping, len(self.chunks) - 1])
        return seen, old

    def _merge(self, which: list[int]) -> None:
        parts = [self.chunks[n] for n in which]
        keep = [c for n, c in enumerate(self.chunks) if n not in set(which)]
        all_ts = np.concatenate([c[0] for c in parts])
        order = np.argsort(all_ts, kind="stable")
        merged = (all_ts[order], np.concatenate([c[1] for c in parts])[order])
        self.chunks = sorted([*keep, merged], key=lambda c: int(c[0][0]))


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
    _series: dict[tuple[int, int, int], _Series] = field(default_factory=dict)
    # patient, metric and source names as small integers: grouping by integers is several times faster
    _codes: dict[str, dict[str, int]] = field(default_factory=lambda: {"p": {}, "m": {}, "s": {}})

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
                "p": self._code(frame["patient_id"], "p"),
                "m": self._code(frame["metric"], "m"),
                "s": self._code(frame["source"], "s"),
                "t": frame["ts"].dt.as_unit("ns").array.asi8,  # one unit for every block: instants compare
            }
        )
        last = ~keys.duplicated(keep="last").to_numpy()
        self.duplicates += int((~last).sum())
        keys = keys.loc[last].reset_index(drop=True)
        values = frame["value"].to_numpy(dtype="float64")[last]
        instants = keys["t"].to_numpy()
        earlier = np.zeros(len(keys), dtype=bool)
        old_values = np.zeros(len(keys), dtype="float64")
        for (p, m, s), rows in keys.groupby(["p", "m", "s"], sort=False).indices.items():
            series = self._series.setdefault((int(p), int(m), int(s)), _Series())
            seen, old = series.replace(instants[rows], values[rows])
            earlier[rows[seen]] = True
            old_values[rows[seen]] = old[seen]
        if earlier.any():
            self.duplicates += int(earlier.sum())
            self._partials(keys.loc[earlier], old_values[earlier], weight=-1)
        self._partials(keys, values, weight=1)

    def _code(self, column: pd.Series, kind: str) -> np.ndarray:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        table = self._codes[kind]
        mapping = np.array([table.setdefault(str(u), len(table)) for u in uniques], dtype="int64")
        return mapping[codes]

    def _partials(self, keys: pd.DataFrame, values: np.ndarray, weight: int) -> None:
        local = pd.Series(pd.to_datetime(keys["t"].to_numpy(), unit="ns", utc=True).tz_convert(self._zone))
        work = pd.DataFrame(
            {
                "patient_id": keys["p"].to_numpy(),
                "metric": keys["m"].to_numpy(),
                "day": local.dt.tz_localize(None).dt.floor("D").to_numpy(),
                "source": keys["s"].to_numpy(),
                "night": (local.dt.hour < NIGHT_END_HOUR).to_numpy(),
                "value": values,
            }
        )
        sums = work.groupby(_SUM_KEYS, sort=False)["value"].agg(["sum", "size"]).reset_index()
        self._sums.append(sums.assign(sum=sums["sum"] * weight, size=sums["size"] * weight))
        hr = work[work["metric"].to_numpy() == self._codes["m"].get("heart_rate", -1)]
        if not hr.empty:
            self._hr.append(hr.groupby(_HR_KEYS, sort=False).size().mul(weight).rename("n").reset_index())
        if len(self._sums) > _COMPACT_EVERY:
            self._sums = [_compact(self._sums, _SUM_KEYS, ["sum", "size"])]
        if len(self._hr) > _COMPACT_EVERY:
            self._hr = [_compact(self._hr, _HR_KEYS, ["n"])]

    def patient_ids(self) -> list[str]:
        """The patients of the samples added, sorted."""
        return sorted(self._codes["p"])

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
        resting = self._codes["m"].setdefault("resting_hr", len(self._codes["m"]))  # derived from heart rate
        names = {k: np.array(list(table), dtype=object) for k, table in self._codes.items()}
        kind = names["m"][sums["metric"].to_numpy()]
        kind = np.array([self.catalog.metrics[m].daily for m in kind], dtype=object)
        parts = [
            _means(sums[kind == "mean"]),
            _night_means(sums[kind == "night_mean"]),
            _source_sums(sums[kind == "sum"]),
            _resting(
                sums[kind == "rest"],
                _compact(self._hr, _HR_KEYS, ["n"]) if self._hr else None,
                resting,
            ),
        ]
        parts = [p for p in parts if not p.empty]
        if not parts:
            return empty_days()
        days = pd.concat(parts, ignore_index=True)
        days["patient_id"] = pd.Series(names["p"][days["patient_id"].to_numpy(dtype="int64")], dtype="str")
        days["metric"] = pd.Series(names["m"][days["metric"].to_numpy(dtype="int64")], dtype="str")
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


def _quantiles(groups: np.ndarray, values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """Per group, the linear-interpolation quantile (numpy's default) of ``values`` repeated ``counts`` times.

    ``groups`` are integer codes 0..G-1; every group must have a positive total count. Vectorised: the rank
    wanted in each group is found by a binary search in the cumulative counts of all groups sorted together.
    """
    order = np.lexsort((values, groups))
    groups, values, counts = groups[order], values[order], counts[order]
    cumulative = np.cumsum(counts)
    totals = np.bincount(groups, weights=counts).astype("int64")
    before = np.concatenate(([0], np.cumsum(totals)[:-1]))  # ranks of earlier groups
    h = (totals - 1) * q
    k = np.floor(h).astype("int64")
    lo = values[np.searchsorted(cumulative, before + k, side="right")]
    hi = values[np.searchsorted(cumulative, before + np.minimum(k + 1, totals - 1), side="right")]
    return lo + (h - k) * (hi - lo)


def _resting(rest: pd.DataFrame, hr: pd.DataFrame | None, resting_code: int) -> pd.DataFrame:
    direct = _means(rest) if not rest.empty else empty_days()
    if hr is None:
        return direct
    hr = hr[hr["n"] > 0]
    if not direct.empty:  # days with resting-HR readings keep their mean; derive only the others
        have = pd.MultiIndex.from_frame(direct[["patient_id", "day"]])
        hr = hr[~pd.MultiIndex.from_frame(hr[["patient_id", "day"]]).isin(have)]
    if hr.empty:
        return direct
    day_codes, days = pd.MultiIndex.from_frame(hr[["patient_id", "day"]]).factorize()
    values, counts = hr["value"].to_numpy(dtype="float64"), hr["n"].to_numpy(dtype="int64")
    night = hr["night"].to_numpy(dtype=bool)
    night_n = np.bincount(day_codes[night], weights=counts[night], minlength=len(days)).astype("int64")
    all_n = np.bincount(day_codes, weights=counts, minlength=len(days)).astype("int64")
    from_night = night_n >= _MIN_NIGHT_HR
    value = _quantiles(day_codes, values, counts, 0.05)
    if from_night.any():
        use = night & from_night[day_codes]
        codes, kept = pd.factorize(day_codes[use])
        value[kept] = _quantiles(codes, values[use], counts[use], 0.10)
    derived = pd.DataFrame(
        {
            "patient_id": days.get_level_values(0),
            "metric": resting_code,
            "day": days.get_level_values(1),
            "value": value,
            "n_samples": np.where(from_night, night_n, all_n),
        }
    )
    return pd.concat([p for p in (direct, derived) if not p.empty], ignore_index=True)
