"""Metric rules for anomaly detection, read from ``backend/data/metric_rules.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend.domain.errors import ValidationFailed

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "data" / "metric_rules.toml"


@dataclass(frozen=True)
class MetricRule:
    """How one metric is judged against the patient's own baseline."""

    name: str
    display: str
    unit: str
    direction: str  # "up" | "down"
    z_threshold: float
    min_abs_dev: float
    min_sd: float
    persistence: int
    extreme_z: float
    plausible: tuple[float, float]
    decimals: int = 0
    illness_weight: float = 0.0

    @property
    def sign(self) -> float:
        """+1 when a rise matters, -1 when a fall matters."""
        return 1.0 if self.direction == "up" else -1.0


@dataclass(frozen=True)
class IllnessRule:
    """Combined multi-signal illness score (resting HR up + HRV down + temperature up)."""

    z_cap: float = 4.0
    alert_score: float = 0.4
    signal_z: float = 1.5
    min_signals: int = 2
    persistence: int = 2
    extreme_score: float = 0.75


@dataclass(frozen=True)
class MetricRules:
    """All rules: baseline window, per-metric rules, illness score and the NAB detector threshold."""

    metrics: dict[str, MetricRule]
    window_days: int = 28
    min_history_days: int = 14
    illness: IllnessRule = field(default_factory=IllnessRule)
    nab_threshold: float = 0.5

    def rule(self, metric: str) -> MetricRule:
        """The rule of ``metric``; raises ValidationFailed for an unknown metric name."""
        try:
            return self.metrics[metric]
        except KeyError:
            known = ", ".join(sorted(self.metrics))
            raise ValidationFailed(f"Unknown health metric '{metric}'. Known metrics: {known}.") from None


def _metric(name: str, raw: dict[str, Any]) -> MetricRule:
    direction = str(raw.get("direction", ""))
    if direction not in ("up", "down"):
        raise ValidationFailed(f"Metric rule '{name}': direction must be 'up' or 'down', not '{direction}'.")
    low, high = raw.get("plausible", [float("-inf"), float("inf")])
    return MetricRule(
        name=name,
        display=str(raw.get("display", name)),
        unit=str(raw.get("unit", "")),
        direction=direction,
        z_threshold=float(raw["z_threshold"]),
        min_abs_dev=float(raw.get("min_abs_dev", 0.0)),
        min_sd=float(raw.get("min_sd", 1e-9)),
        persistence=int(raw.get("persistence", 1)),
        extreme_z=float(raw.get("extreme_z", float("inf"))),
        plausible=(float(low), float(high)),
        decimals=int(raw.get("decimals", 0)),
        illness_weight=float(raw.get("illness_weight", 0.0)),
    )


def parse_rules(data: dict[str, Any]) -> MetricRules:
    """Build MetricRules from the parsed TOML mapping.

    Raises:
        ValidationFailed: a required key is missing or a value is invalid.
    """
    try:
        metrics = {name: _metric(name, raw) for name, raw in data.get("metrics", {}).items()}
        base = data.get("baseline", {})
        ill = data.get("illness", {})
        return MetricRules(
            metrics=metrics,
            window_days=int(base.get("window_days", 28)),
            min_history_days=int(base.get("min_history_days", 14)),
            illness=IllnessRule(
                z_cap=float(ill.get("z_cap", 4.0)),
                alert_score=float(ill.get("alert_score", 0.4)),
                signal_z=float(ill.get("signal_z", 1.5)),
                min_signals=int(ill.get("min_signals", 2)),
                persistence=int(ill.get("persistence", 2)),
                extreme_score=float(ill.get("extreme_score", 0.75)),
            ),
            nab_threshold=float(data.get("nab", {}).get("threshold", 0.5)),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ValidationFailed(f"The metric rules file is invalid ({e!r}); fix it or restore the default.") from e


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> MetricRules:
    try:
        with path.open("rb") as f:
            return parse_rules(tomllib.load(f))
    except FileNotFoundError as e:
        raise ValidationFailed(f"Metric rules file {path} does not exist; pass an existing TOML file.") from e
    except tomllib.TOMLDecodeError as e:
        raise ValidationFailed(f"Metric rules file {path} is not valid TOML ({e}).") from e


def load_rules(path: str | Path | None = None) -> MetricRules:
    """Load (once per path) the metric rules; the packaged default when ``path`` is None."""
    return _load_cached(Path(path).resolve() if path is not None else DEFAULT_RULES_PATH)
