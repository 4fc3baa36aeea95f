"""Sample frames in, daily rows out: the import pipeline without any I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from backend.domain.metrics.catalog import MetricCatalog
from backend.domain.metrics.daily import DAY_COLUMNS, daily_aggregates, empty_days
from backend.domain.metrics.normalise import assign_patient, deduplicate, normalise
from backend.domain.metrics.report import ImportLog
from backend.domain.metrics.samples import empty_frame


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
    tz: str | tzinfo = "UTC",
) -> Aggregated:
    """Check, normalise and de-duplicate every frame of an import, then aggregate per day.

    Frames are cleaned one at a time as they stream in (the clean ones are compact: floats,
    timestamps and a few repeated strings), then de-duplicated and aggregated together.
    """
    clean = [normalise(assign_patient(f, patient_id, log), catalog, log) for f in frames if not f.empty]
    clean = [c for c in clean if not c.empty]
    if not clean:
        return Aggregated(empty_days(), 0, 0, [])
    samples = pd.concat(clean, ignore_index=True) if len(clean) > 1 else clean[0]
    samples, duplicates = deduplicate(samples if not samples.empty else empty_frame())
    days = daily_aggregates(samples, catalog, tz)
    return Aggregated(days[DAY_COLUMNS], len(samples), duplicates, sorted(samples["patient_id"].unique().tolist()))
