"""Ultrahuman ring data: the parser of its JSON (partner API responses or saved files).

The documented partner endpoint is ``GET {base}/api/v1/metrics?email=...&date=YYYY-MM-DD`` with the
partner token in the ``Authorization`` header (no "Bearer"). A response looks like::

    {"data": {"metric_data": [{"type": "hr", "object": {"day_start_timestamp": 1671739200,
      "values": [{"value": 81, "timestamp": 1671739294}, ...], "unit": "BPM"}}, ...],
      "latest_time_zone": "Asia/Kolkata"}, "error": null, "status": 200}

Types read here: ``hr``, ``hrv``, ``temp``, ``steps``, ``night_rhr``, ``spo2`` (time series, epoch
seconds), ``sleep``/``Sleep`` (total sleep, else the asleep stages of ``sleep_graph``, else bedtime
start to end), ``recovery_index`` and ``movement_index`` (one value per day). Other documented types
(glucose, metabolic score, VO2 max, motion ...) are skipped; anything else is listed as unknown.
The HTTP client is :class:`backend.adapters.wearables.ultrahuman_api.UltrahumanClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, tzinfo
from typing import Any, BinaryIO

import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog, Sample, frame_from_samples
from backend.formats.importers._json import JsonShape, json_shape, load_whole, stream_pairs

FORMAT = "ultrahuman"
SERIES = {
    "hr": "heart_rate",
    "hrv": "hrv",
    "temp": "temperature",
    "steps": "steps",
    "night_rhr": "resting_hr",
    "spo2": "spo2",
}
DAILY = {"recovery_index": "recovery_index", "movement_index": "movement_index"}
SLEEP = ("sleep", "Sleep")
SKIPPED = frozenset(
    {
        "glucose",
        "metabolic_score",
        "glucose_variability",
        "average_glucose",
        "hba1c",
        "time_in_target",
        "vo2_max",
        "motion",
        "active_minutes",
        "sleep_rhr",
        "avg_sleep_hrv",
        "bedtime",
        "body_battery",
    }
)
_ASLEEP_STAGES = ("light_sleep", "deep_sleep", "rem_sleep", "asleep", "light", "deep", "rem")
MAX_DAYS = 366
BLOCK_SAMPLES = 20_000
WHAT = "the JSON saved from Ultrahuman"


def metric_items(payload: Any) -> list[dict[str, Any]]:
    """The ``metric_data`` list of one day's response (or of a bare list of metric items)."""
    if isinstance(payload, list):
        return [i for i in payload if isinstance(i, dict)]
    if isinstance(payload, dict):
        data = payload.get("data", payload)
        if isinstance(data, dict):
            items = data.get("metric_data", data.get("metrics", []))
            return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return []


def parse_day(payload: Any, day: str | None, log: ImportLog, record: int = 0) -> list[Sample]:
    """Samples of one day's payload; ``day`` (YYYY-MM-DD) dates the once-a-day values without a timestamp."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict) and payload["data"].get("latest_time_zone"):
        log.tz_hint = log.tz_hint or str(payload["data"]["latest_time_zone"])
    samples: list[Sample] = []
    for item in metric_items(payload):
        kind = str(item.get("type", ""))
        obj = _dict(item.get("object"))
        noon = _noon(obj, day)
        if kind in SERIES:
            samples.extend(_series(kind, obj, noon, record))
        elif kind in DAILY and _number(obj.get("value")) is not None and noon is not None:
            samples.append(Sample("", noon, DAILY[kind], float(obj["value"]), "", FORMAT, record))
        elif kind in SLEEP:
            sleep = _sleep(obj, noon)
            if sleep is not None:
                samples.append(Sample("", sleep[0], "sleep_hours", sleep[1], "h", FORMAT, record))
        elif kind not in SKIPPED:
            log.unknown_metric(f"ultrahuman:{kind}")
    return samples


def _series(kind: str, obj: dict[str, Any], noon: float | str | None, record: int) -> list[Sample]:
    metric = SERIES[kind]
    unit = str(obj.get("unit", "") or "")
    unit = "" if unit.upper() == "BPM" else unit
    out = [
        Sample("", float(v["timestamp"]), metric, float(v["value"]), unit, FORMAT, record)
        for v in obj.get("values", []) or []
        if isinstance(v, dict)
        and _number(v.get("value")) is not None
        and _number(v.get("timestamp")) is not None
        # SpO2 slots without a reading are padded with 0: not a measurement.
        and not (kind == "spo2" and float(v["value"]) <= 0)
    ]
    if not out and noon is not None:  # a day summary without the series
        for key in ("avg", "value", "total"):
            value = _number(obj.get(key))
            if value is not None and not (kind == "spo2" and value <= 0):
                out.append(Sample("", noon, metric, value, unit, FORMAT, record))
                break
    return out


def _sleep(obj: dict[str, Any], noon: float | str | None) -> tuple[float | str, float] | None:
    details = _dict(obj.get("details")) or obj
    end = _number(details.get("bedtime_end"))
    when: float | str | None = end if end is not None else noon
    if when is None:
        return None
    total = details.get("total_sleep")
    seconds = _number(total.get("seconds")) if isinstance(total, dict) else None
    if seconds is None:
        for metric in details.get("quick_metrics", []) or []:
            if isinstance(metric, dict) and metric.get("type") == "total_sleep":
                seconds = _number(metric.get("value"))
    if seconds is None:
        graph = details.get("sleep_graph", {})
        stages = graph.get("data", []) if isinstance(graph, dict) else []
        asleep = [s for s in stages if isinstance(s, dict) and str(s.get("type", "")).lower() in _ASLEEP_STAGES]
        if asleep:
            seconds = float(sum((_number(s.get("end")) or 0) - (_number(s.get("start")) or 0) for s in asleep))
    if seconds is None:
        start = _number(details.get("bedtime_start"))
        if start is not None and end is not None:
            seconds = end - start
    return None if seconds is None else (when, round(seconds / 3600.0, 4))


def _noon(obj: dict[str, Any], day: str | None) -> float | str | None:
    start = _number(obj.get("day_start_timestamp"))
    if start is not None:
        return start + 12 * 3600
    return f"{day}T12:00:00" if day else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_ultrahuman_json(
    stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC", shape: JsonShape | None = None
) -> Iterator[pd.DataFrame]:
    """Sample frames from a saved Ultrahuman JSON file.

    Accepts one API response, a list of responses, ``{"YYYY-MM-DD": response, ...}`` (what the
    backfill stores, streamed one day at a time), or a bare ``metric_data`` list.
    """
    shape = shape or json_shape(stream, WHAT)
    if shape.kind == "object" and shape.keys and all(_is_day(k) for k in shape.keys):
        yield from _frames(stream_pairs(stream, WHAT), log, tz)
        return
    yield from frames_from_document(load_whole(stream, WHAT), log, tz)


def frames_from_document(doc: Any, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Sample frames from an already parsed Ultrahuman document (see :func:`read_ultrahuman_json`)."""
    if isinstance(doc, dict) and doc and all(_is_day(k) for k in doc):
        days: list[tuple[str | None, Any]] = [(str(k), v) for k, v in doc.items()]
    elif isinstance(doc, list) and doc and all(isinstance(d, dict) and "data" in d for d in doc):
        days = [(None, d) for d in doc]
    else:
        days = [(None, doc)]
    yield from _frames(iter(days), log, tz)


def _frames(days: Iterator[tuple[str | None, Any]], log: ImportLog, tz: str | tzinfo) -> Iterator[pd.DataFrame]:
    """Frames of at most :data:`BLOCK_SAMPLES` samples, day by day.

    Raises:
        UnsupportedInput: no day has ``metric_data`` (and not every day is an empty one).
    """
    samples: list[Sample] = []
    any_metrics, all_empty = False, True
    for record, (day, payload) in enumerate(days, start=1):
        any_metrics = any_metrics or bool(metric_items(payload))
        all_empty = all_empty and _is_empty_day(payload)
        found = parse_day(payload, day, log, record)
        if not found and day:
            log.notes.append(f"{day}: no data")
        samples.extend(found)
        if len(samples) >= BLOCK_SAMPLES:  # frames of a bounded size, like the other importers
            yield frame_from_samples(samples, tz)
            samples = []
    if not any_metrics and not all_empty:
        raise UnsupportedInput(
            "This JSON is not an Ultrahuman export: it has no 'metric_data'. Upload the JSON saved from Ultrahuman."
        )
    yield frame_from_samples(samples, tz)


def _is_day(key: Any) -> bool:
    try:
        date.fromisoformat(str(key))
    except ValueError:
        return False
    return True


def _is_empty_day(payload: Any) -> bool:
    return (
        isinstance(payload, dict) and isinstance(payload.get("data"), dict) and payload["data"].get("metric_data") == []
    )
