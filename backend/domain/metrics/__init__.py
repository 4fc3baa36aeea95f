"""Wearable health metrics: canonical names and units, samples, normalisation, daily aggregates."""

from backend.domain.metrics.catalog import MetricCatalog, MetricSpec, load_catalog
from backend.domain.metrics.daily import DAY_COLUMNS, daily_aggregates, temperature_deviation
from backend.domain.metrics.normalise import assign_patient, deduplicate, normalise
from backend.domain.metrics.pipeline import Aggregated, aggregate
from backend.domain.metrics.report import ImportLog, ImportReport
from backend.domain.metrics.samples import SAMPLE_COLUMNS, Sample, frame_from_samples, iter_samples, parse_timestamps

__all__ = [
    "DAY_COLUMNS",
    "SAMPLE_COLUMNS",
    "Aggregated",
    "ImportLog",
    "ImportReport",
    "MetricCatalog",
    "MetricSpec",
    "Sample",
    "aggregate",
    "assign_patient",
    "daily_aggregates",
    "deduplicate",
    "frame_from_samples",
    "iter_samples",
    "load_catalog",
    "normalise",
    "parse_timestamps",
    "temperature_deviation",
]
