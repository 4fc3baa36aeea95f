"""Sample frames in, daily rows out: the import pipeline without any I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from backend.domain.metrics.catalog import MetricCatalog
from backend.domain.metrics.daily import DAY_COLUMNS
from backend.domain.metrics.normalise import assign_patient, normalise
from backend.domain.metrics.report import ImportLog
from backend.domain.metrics.streaming import MAX_SAMPLES, DailyAccumulator


@dataclass(frozen=True)
class Aggregated:
    """Daily rows plus what it took to get them."""

    days: pd.DataFrame  # DAY_COLUMNS
    samples: int  # valid samples after de-duplication
    duplicates: int
    patient_ids: list[str]


def aggregate(
    frames: Iterable[pd.DataFrame],
    catalog: MetricCatalog,
    log: ImportLog,
    patient_id: str | None = None,
    tz: str | tzinfo | Callable[[], str | tzinfo] = "UTC",
    max_samples: int = MAX_SAMPLES,
) -> Aggregated:
    """Check, normalise, de-duplicate and aggregate per day each frame of an import as it streams in.

    Only the daily sums and the instants needed for de-duplication outlive a frame (see
    :mod:`backend.domain.metrics.streaming`), so pass the importer's generator, not a list.

    Args:
        tz: the zone of the days, or a function giving it once the first frame is read.

    Raises:
        UnsupportedInput: more than ``max_samples`` readings.
    """
    days = DailyAccumulator(catalog, tz, max_samples)
    for frame in frames:
        if not frame.empty:
            days.add(normalise(assign_patient(frame, patient_id, log), catalog, log))
    out = days.days()
    return Aggregated(out[DAY_COLUMNS], days.samples, days.duplicates, days.patient_ids())
