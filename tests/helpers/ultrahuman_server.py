"""A local stand-in of the Ultrahuman partner API (``GET /api/v1/metrics?email=&date=``, token header), scripted.

``partner_api(token)`` serves on loopback and yields ``(state, base_url)``. Per request it answers, in order:
401 for a wrong token (or a day from ``expired_from`` on); the next scripted reply of that e-mail
(``by_email``) or of that date (``script``); ``days[(email, date)]`` when set; else ``default`` (an empty day).
Every request is logged in ``state.requests``. ``day_response`` makes a day in the documented shape.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).resolve().parents[1] / "integration" / "fixtures" / "ultrahuman"
Reply = tuple[int, bytes, dict[str, str]]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class PartnerApi:
    """Scripted fake of the partner endpoint."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.script: dict[str, list[Reply]] = {}  # by date
        self.by_email: dict[str, list[Reply]] = {}
        self.days: dict[tuple[str, str], bytes] = {}  # (email, date) -> a 200 body, every time
        self.default: Reply = (200, fixture("day_empty.json"), {})
        self.requests: list[dict[str, Any]] = []
        self.expired_from: str | None = None  # the token stops working from this date on
        self._lock = threading.Lock()

    def respond(self, path: str, headers: Any) -> Reply:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        day, email = query.get("date", ""), query.get("email", "")
        with self._lock:
            self.requests.append(
                {"path": url.path, "query": query, "auth": headers.get("Authorization"), "at": time.monotonic()}
            )
            if url.path != "/api/v1/metrics":
                return 404, b'{"error": "not found"}', {}
            if headers.get("Authorization") != self.token or (self.expired_from and day >= self.expired_from):
                return 401, fixture("error_401.json"), {}
            for queue in (self.by_email.get(email), self.script.get(day)):
                if queue:
                    return queue.pop(0)
            if (email, day) in self.days:
                return 200, self.days[(email, day)], {}
            return self.default

    def calls(self, email: str | None = None) -> list[dict[str, str]]:
        """The queries received (of one e-mail), in order."""
        with self._lock:
            return [r["query"] for r in self.requests if email is None or r["query"].get("email") == email]


@contextmanager
def partner_api(token: str) -> Iterator[tuple[PartnerApi, str]]:
    """The stand-in on a free loopback port, for the ``with`` block."""
    state = PartnerApi(token)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body, headers = state.respond(self.path, self.headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def day_response(day: date, resting_hr: float = 58.0, hrv: float = 50.0, steps: float = 6000.0) -> bytes:
    """One day's partner-API answer (Asia/Kolkata) with night resting HR, HRV and steps readings."""
    tz = ZoneInfo("Asia/Kolkata")
    start = datetime(day.year, day.month, day.day, tzinfo=tz)

    def at(hours: float) -> int:
        return int((start + timedelta(hours=hours)).timestamp())

    def series(kind: str, values: list[tuple[float, float]]) -> dict[str, Any]:
        return {
            "type": kind,
            "object": {"day_start_timestamp": at(0), "values": [{"value": v, "timestamp": at(h)} for h, v in values]},
        }

    metric_data = [
        series("night_rhr", [(2.0, resting_hr), (3.0, resting_hr + 1), (4.0, resting_hr - 1)]),
        series("hrv", [(2.0, hrv), (3.0, hrv + 2), (4.0, hrv - 2)]),
        series("steps", [(9.0, steps / 2), (15.0, steps / 2)]),
    ]
    return json.dumps({"data": {"metric_data": metric_data, "latest_time_zone": "Asia/Kolkata"}}).encode()
