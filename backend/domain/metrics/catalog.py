"""The catalog of canonical wearable metrics, read from ``backend/data/metrics.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend.domain.errors import ValidationFailed

DEFAULT_CATALOG_PATH = Path(__file__).resolve().parents[2] / "data" / "metrics.toml"
DAILY_KINDS = ("mean", "night_mean", "sum", "rest", "none")
_SEPARATORS = re.compile(r"[\s\-./]+")


@dataclass(frozen=True)
class MetricSpec:
    """One canonical metric: its unit, plausible range, accepted spellings and daily aggregation."""

    name: str
    label: str
    unit: str
    plausible: tuple[float, float]
    daily: str
    aliases: tuple[str, ...]
    units: dict[str, tuple[float, float]]  # lower-cased unit spelling -> (scale, offset)
    fraction_to_percent: bool = False


@dataclass(frozen=True)
class DerivedSpec:
    """temperature_dev from temperature: value minus the median of the previous nights."""

    name: str
    source: str
    window_nights: int
    min_nights: int


@dataclass(frozen=True)
class MetricCatalog:
    """All metrics plus the alias table used to read file headers and metric columns."""

    metrics: dict[str, MetricSpec]
    derived: dict[str, DerivedSpec]
    lookup: dict[str, str]  # normalised spelling -> canonical name

    def canonical(self, raw: str) -> str | None:
        """The canonical name for ``raw`` (a metric name as written in a file), or None if unknown."""
        return self.lookup.get(normalise_name(raw))

    def spec(self, name: str) -> MetricSpec:
        """The spec of canonical metric ``name``; ValidationFailed if unknown."""
        try:
            return self.metrics[name]
        except KeyError:
            raise ValidationFailed(
                f"Unknown metric '{name}'. Known metrics: {', '.join(sorted(self.metrics))}."
            ) from None

    @property
    def stored(self) -> list[str]:
        """Metrics that become daily rows (heart_rate only feeds resting_hr)."""
        return [m.name for m in self.metrics.values() if m.daily != "none"]


def normalise_name(raw: str) -> str:
    """Lower-case, trim, and read spaces/dashes/dots/slashes as underscores."""
    return _SEPARATORS.sub("_", raw.strip().lower()).strip("_")


def parse_catalog(data: dict[str, Any]) -> MetricCatalog:
    """Build the catalog from the parsed TOML document (validated: a bad file fails loudly at start)."""
    metrics: dict[str, MetricSpec] = {}
    lookup: dict[str, str] = {}
    for name, raw in data.get("metrics", {}).items():
        daily = str(raw.get("daily", "mean"))
        if daily not in DAILY_KINDS:
            raise ValidationFailed(f"metrics.toml: metric '{name}' has daily='{daily}'; use one of {DAILY_KINDS}.")
        low, high = raw["plausible"]
        units = {str(k).strip().lower(): (float(v[0]), float(v[1])) for k, v in raw.get("units", {"": [1, 0]}).items()}
        units.setdefault(str(raw["unit"]).lower(), (1.0, 0.0))
        spec = MetricSpec(
            name=name,
            label=str(raw.get("label", name)),
            unit=str(raw["unit"]),
            plausible=(float(low), float(high)),
            daily=daily,
            aliases=tuple(str(a) for a in raw.get("aliases", [])),
            units=units,
            fraction_to_percent=bool(raw.get("fraction_to_percent", False)),
        )
        metrics[name] = spec
        for spelling in (name, *spec.aliases):
            key = normalise_name(spelling)
            if lookup.get(key, name) != name:
                raise ValidationFailed(f"metrics.toml: alias '{spelling}' names both {lookup[key]} and {name}.")
            lookup[key] = name
    derived = {
        name: DerivedSpec(name, str(raw["from"]), int(raw.get("window_nights", 28)), int(raw.get("min_nights", 3)))
        for name, raw in data.get("derived", {}).items()
    }
    return MetricCatalog(metrics=metrics, derived=derived, lookup=lookup)


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> MetricCatalog:
    with path.open("rb") as f:
        return parse_catalog(tomllib.load(f))


def load_catalog(path: str | Path | None = None) -> MetricCatalog:
    """The metric catalog (read once per path and cached; never mutate what it returns)."""
    return _load_cached(Path(path) if path else DEFAULT_CATALOG_PATH)
