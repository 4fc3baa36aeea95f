"""FHIR R4 Observations (a Bundle, a list, or one Observation, as JSON) read by their LOINC code.

Only ``valueQuantity`` observations with a known LOINC code import; the time is
``effectiveDateTime``/``effectiveInstant``, else the end of ``effectivePeriod`` (sleep and steps
are counted over a period), else ``issued``. Cancelled or entered-in-error observations are
rejected. The reported number of a problem is the 1-based position of the Observation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import Any, BinaryIO

import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog, Sample, frame_from_samples
from backend.formats.importers._json import JsonShape, json_shape, load_whole, stream_items

FORMAT = "fhir"
LOINC_SYSTEM = "http://loinc.org"
LOINC = {
    "8867-4": "heart_rate",
    "40443-4": "resting_hr",
    "59408-5": "spo2",
    "2708-6": "spo2",
    "8310-5": "temperature",
    "8331-1": "temperature",
    "55423-8": "steps",
    "41950-7": "steps",
    "93832-4": "sleep_hours",
    "80404-7": "hrv",
    "9279-1": "respiratory_rate",
}
BLOCK_SAMPLES = 20_000
WHAT = "a FHIR Bundle of Observations (JSON)"
_NOT_MEASURED = frozenset({"entered-in-error", "cancelled"})


def observations(doc: Any) -> list[dict[str, Any]]:
    """The Observation resources of a Bundle, a list of resources, or a single Observation."""
    if isinstance(doc, list):
        resources = doc
    elif isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        resources = [e.get("resource") for e in doc.get("entry", []) or [] if isinstance(e, dict)]
    elif isinstance(doc, dict) and doc.get("resourceType") == "Observation":
        resources = [doc]
    else:
        kind = doc.get("resourceType") if isinstance(doc, dict) else None
        raise UnsupportedInput(
            f"This JSON is {'a FHIR ' + str(kind) if kind else 'not FHIR'}; upload a Bundle of Observations (FHIR R4)."
        )
    return [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Observation"]


def read_fhir(
    stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC", shape: JsonShape | None = None
) -> Iterator[pd.DataFrame]:
    """Sample frames from a FHIR JSON document; a Bundle streams one entry at a time.

    Raises:
        UnsupportedInput: not JSON, not FHIR, or Observations of more than one patient.
    """
    shape = shape or json_shape(stream, WHAT)
    if shape.kind == "object" and shape.resource_type == "Bundle":
        resources = stream_items(stream, "entry.item.resource", WHAT)
        observations_only = (r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Observation")
        yield from _frames(observations_only, log, tz)
        return
    yield from frames_from_document(load_whole(stream, WHAT), log, tz)


def frames_from_document(doc: Any, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Sample frames from a parsed FHIR document.

    Raises:
        UnsupportedInput: not FHIR, or Observations of more than one patient.
    """
    yield from _frames(iter(observations(doc)), log, tz)


def _frames(found: Iterator[dict[str, Any]], log: ImportLog, tz: str | tzinfo) -> Iterator[pd.DataFrame]:
    """Frames of at most :data:`BLOCK_SAMPLES` samples; a second patient's Observation stops the import."""
    subjects: set[str] = set()
    samples: list[Sample] = []
    for number, obs in enumerate(found, start=1):
        subject = str((obs.get("subject") or {}).get("reference", ""))
        if subject and subject not in subjects:
            subjects.add(subject)
            if len(subjects) > 1:
                raise UnsupportedInput(
                    f"This bundle holds observations of at least {len(subjects)} patients "
                    f"({', '.join(sorted(subjects))} ...). Import one patient's observations at a time."
                )
        sample = _sample(obs, number, log)
        if sample is not None:
            samples.append(sample)
        if len(samples) >= BLOCK_SAMPLES:
            yield frame_from_samples(samples, tz)
            samples = []
    yield frame_from_samples(samples, tz)


def _sample(obs: dict[str, Any], number: int, log: ImportLog) -> Sample | None:
    codes = [c for c in (obs.get("code") or {}).get("coding", []) or [] if isinstance(c, dict)]
    loinc = [str(c.get("code")) for c in codes if c.get("system") == LOINC_SYSTEM]
    metric = next((LOINC[c] for c in loinc if c in LOINC), None)
    if metric is None:
        label = loinc[0] if loinc else (codes[0].get("code") if codes else "no code")
        display = next((c.get("display") for c in codes if c.get("display")), None)
        log.unknown_metric(f"LOINC {label}" + (f" ({display})" if display else ""))
        return None
    status = str(obs.get("status", ""))
    if status in _NOT_MEASURED:
        log.reject(number, f"Observation {obs.get('id', number)} has status '{status}'")
        return None
    quantity = obs.get("valueQuantity")
    quantity = quantity if isinstance(quantity, dict) else {}
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        log.reject(number, f"Observation {obs.get('id', number)} ({metric}) has no numeric valueQuantity")
        return None
    period = obs.get("effectivePeriod")
    period = period if isinstance(period, dict) else {}
    when = (
        obs.get("effectiveDateTime")
        or obs.get("effectiveInstant")
        or period.get("end")
        or period.get("start")
        or obs.get("issued")
    )
    if not when:
        log.reject(number, f"Observation {obs.get('id', number)} ({metric}) has no effective time")
        return None
    unit = str(quantity.get("code") or quantity.get("unit") or "")
    return Sample("", str(when), metric, float(value), unit, FORMAT, number)
