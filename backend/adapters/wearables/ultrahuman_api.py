"""The Ultrahuman partner API client: one GET per day, rate limited, with backoff (standard library HTTP).

The documented partner endpoint is ``GET {base}/api/v1/metrics?email=...&date=YYYY-MM-DD`` with the partner
token in the ``Authorization`` header (no "Bearer"); :mod:`backend.formats.importers.ultrahuman` parses what it
returns.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from backend.domain.errors import ProviderUnavailable, ValidationFailed
from backend.domain.metrics.errors import CredentialsRejected
from backend.formats.importers.ultrahuman import MAX_DAYS


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
