"""Anomaly detection for daily wearable metrics, and a generic streaming detector for NAB."""

from backend.domain.anomaly.detector import DetectionResult, Episode, detect, detect_many
from backend.domain.anomaly.rules import MetricRule, MetricRules, load_rules
from backend.domain.anomaly.synthetic import synth_patient_days

__all__ = [
    "DetectionResult",
    "Episode",
    "MetricRule",
    "MetricRules",
    "detect",
    "detect_many",
    "load_rules",
    "synth_patient_days",
]
