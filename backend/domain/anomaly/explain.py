"""Plain-language explanations of anomalies, with their numbers."""

from __future__ import annotations

from backend.domain.anomaly.rules import MetricRule

_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh"}


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals > 0 else f"{round(value):d}"


def days_running(n: int) -> str:
    """``"first day"``, ``"third day running"``, ``"12th day running"``."""
    if n <= 1:
        return "first day"
    word = _ORDINALS.get(n)
    if word is None:
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        word = f"{n}{suffix}"
    return f"{word} day running"


def explain_metric(rule: MetricRule, value: float, baseline: float, robust_z: float, run: int, window_days: int) -> str:
    """One sentence such as "Resting HR 78 bpm, 12 above the 28-day median of 66 (3.1 robust SD), third day running"."""
    dev = value - baseline
    side = "above" if dev >= 0 else "below"
    unit = f" {rule.unit}" if rule.unit else ""
    return (
        f"{rule.display} {_fmt(value, rule.decimals)}{unit}, {_fmt(abs(dev), rule.decimals)} {side} the "
        f"{window_days}-day median of {_fmt(baseline, rule.decimals)} ({abs(robust_z):.1f} robust SD), "
        f"{days_running(run)}"
    )


def explain_illness(score: float, parts: list[str], run: int) -> str:
    """Sentence for a combined illness alert, listing the contributing signals."""
    joined = "; ".join(parts) if parts else "no single signal stands out"
    return f"Possible illness pattern (score {score:.2f} of 1): {joined}; {days_running(run)}"
