"""Ultrahuman ring data: the partner API client and the parser of its JSON (API responses or saved files).

The documented partner endpoint is ``GET {base}/api/v1/metrics?email=...&date=YYYY-MM-DD`` with the
partner token in the ``Authorization`` header (no "Bearer"). A response looks like::

    {"data": {"metric_data": [{"type": "hr", "object": {"day_start_timestamp": 1671739200,
      "values": [{"value": 81, "timestamp": 1671739294}, ...], "unit": "BPM"}}, ...],
      "latest_time_zone": "Asia/Kolkata"}, "error": null, "status": 200}

Types read here: ``hr``, ``hrv``, ``temp``, ``steps``, ``night_rhr``, ``spo2`` (time series, epoch
seconds), ``sleep``/``Sleep`` (total sleep, else the asleep stages of ``sleep_graph``, else bedtime
start to end), ``recovery_index`` and ``movement_index`` (one value per day). Other documented types
(glucose, metabolic score, VO2 max, motion ...) are skipped; anything else is listed as unknown.
The HTTP client uses the standard library, so it needs no extra dependency.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any, BinaryIO

import pandas as pd

from backend.domain.errors import ProviderUnavailable, UnsupportedInput, ValidationFailed
from backend.domain.metrics import ImportLog, Sample, frame_from_samples
from backend.domain.metrics.errors import CredentialsRejected

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


def read_ultrahuman_json(stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Sample frames from a saved Ultrahuman JSON file.

    Accepts one API response, a list of responses, ``{"YYYY-MM-DD": response, ...}`` (what the
    backfill stores), or a bare ``metric_data`` list.
    """
    try:
        doc = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UnsupportedInput(f"This file is not valid JSON ({e}). Upload the JSON saved from Ultrahuman.") from e
    yield from frames_from_document(doc, log, tz)


def frames_from_document(doc: Any, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Sample frames from an already parsed Ultrahuman document (see :func:`read_ultrahuman_json`)."""
    if isinstance(doc, dict) and doc and all(_is_day(k) for k in doc):
        days: list[tuple[str | None, Any]] = [(str(k), v) for k, v in doc.items()]
    elif isinstance(doc, list) and doc and all(isinstance(d, dict) and "data" in d for d in doc):
        days = [(None, d) for d in doc]
    else:
        days = [(None, doc)]
    if not any(metric_items(payload) for _, payload in days) and not all(_is_empty_day(p) for _, p in days):
        raise UnsupportedInput(
            "This JSON is not an Ultrahuman export: it has no 'metric_data'. Upload the JSON saved from Ultrahuman."
        )
    samples: list[Sample] = []
    for record, (day, payload) in enumerate(days, start=1):
        found = parse_day(payload, day, log, record)
        if not found and day:
            log.notes.append(f"{day}: no data")
        samples.extend(found)
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


@dataclass
class UltrahumanClient:
    """Partner API client: one GET per day, rate limited, with backoff on 429/5xx/network errors.

    Args:
        base_url: e.g. the partner host; the path ``/api/v1/metrics`` is appended.
        token: the partner authorization key (sent as the ``Authorization`` header).
        min_interval: seconds between two requests (the API publishes no rate; stay polite).
        max_retries: retries per day after the first attempt, for 429, 5xx and network errors.
        backoff: first backoff in seconds, doubled each retry (with jitter); ``Retry-After`` wins.
    """

    base_url: str
    token: str
    timeout: float = 20.0
    min_interval: float = 0.25
    max_retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last_call: float = field(default=-1e9, init=False, repr=False)

    def __post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValidationFailed(f"The Ultrahuman API address must start with https:// (got {self.base_url[:60]!r}).")
        if not self.token.strip():
            raise ValidationFailed("No Ultrahuman API token is configured. Paste the partner token and try again.")

    def fetch_day(self, email: str, day: date) -> dict[str, Any]:
        """The parsed response of one day.

        Raises:
            CredentialsRejected: 401/403 — the token is wrong or expired, or the user has not shared data.
            ProviderUnavailable: still failing after the retries (5xx, 429, timeouts), or not JSON.
        """
        query = urllib.parse.urlencode({"email": email, "date": day.isoformat()})
        url = f"{self.base_url.rstrip('/')}/api/v1/metrics?{query}"
        request = urllib.request.Request(url, headers={"Authorization": self.token, "Accept": "application/json"})  # noqa: S310
        for attempt in range(self.max_retries + 1):
            self._throttle()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # nosec B310: scheme checked
                    body = response.read()
            except urllib.error.HTTPError as e:
                wait = self._retry_wait(e, attempt, day)
                e.close()
                self.sleep(wait)
                continue
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt >= self.max_retries:
                    raise ProviderUnavailable(
                        f"The Ultrahuman API cannot be reached ({getattr(e, 'reason', e)}) for {day}. "
                        "Check the network and try again."
                    ) from e
                self.sleep(self._backoff(attempt))
                continue
            try:
                parsed = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ProviderUnavailable(
                    f"The Ultrahuman API sent something that is not JSON for {day}; try again later."
                ) from e
            if not isinstance(parsed, dict):
                raise ProviderUnavailable(f"The Ultrahuman API sent an unexpected response for {day}; try again later.")
            return parsed
        raise ProviderUnavailable(
            f"The Ultrahuman API kept failing for {day} after {self.max_retries + 1} attempts; try again later."
        )

    def backfill(self, email: str, start: date, end: date) -> dict[str, dict[str, Any]]:
        """Every day from ``start`` to ``end`` inclusive, one call per day: ``{"YYYY-MM-DD": response}``.

        All or nothing: an error on any day raises, and the caller saves nothing.
        """
        if end < start:
            raise ValidationFailed(f"The end date {end} is before the start date {start}.")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationFailed(
                f"Import at most {MAX_DAYS} days at a time ({start} to {end} is {(end - start).days + 1})."
            )
        out: dict[str, dict[str, Any]] = {}
        day = start
        while day <= end:
            out[day.isoformat()] = self.fetch_day(email, day)
            day += timedelta(days=1)
        return out

    def _retry_wait(self, error: urllib.error.HTTPError, attempt: int, day: date) -> float:
        if error.code in (401, 403):
            detail = _error_text(error)
            if error.code == 401:
                raise CredentialsRejected(
                    "Ultrahuman rejected the API token (HTTP 401): it is wrong or has expired. "
                    f"Paste a valid partner token and import again; nothing was saved.{detail}"
                ) from error
            raise CredentialsRejected(
                "Ultrahuman refused access to this user's data (HTTP 403). Check the email, and that the patient "
                f"entered your partner code in the Ultrahuman app; nothing was saved.{detail}"
            ) from error
        if error.code == 429 or error.code >= 500:
            if attempt >= self.max_retries:
                raise ProviderUnavailable(
                    f"The Ultrahuman API kept failing for {day} (HTTP {error.code}) after {attempt + 1} attempts; "
                    "try again later. Nothing was saved."
                ) from error
            retry_after = _retry_after(error.headers.get("Retry-After") if error.headers else None)
            return min(self.max_backoff, retry_after) if retry_after is not None else self._backoff(attempt)
        raise ProviderUnavailable(
            f"The Ultrahuman API refused the request for {day} (HTTP {error.code}).{_error_text(error)} "
            "Nothing was saved."
        ) from error

    def _backoff(self, attempt: int) -> float:
        jitter = 0.5 + random.random() / 2  # nosec B311: spreads retries, not a secret
        return min(self.max_backoff, self.backoff * (2**attempt)) * jitter

    def _throttle(self) -> None:
        wait = self._last_call + self.min_interval - self.clock()
        if wait > 0:
            self.sleep(wait)
        self._last_call = self.clock()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return ""
    message = body.get("error") if isinstance(body, dict) else None
    return f" (Ultrahuman said: {str(message)[:120]})" if message else ""
