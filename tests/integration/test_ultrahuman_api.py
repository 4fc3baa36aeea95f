"""The Ultrahuman partner API client against a local HTTP server serving documented-shape fixtures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import ProviderUnavailable
from backend.domain.metrics.errors import CredentialsRejected
from backend.domain.models import Patient, Role
from backend.adapters.wearables.ultrahuman_api import UltrahumanClient
from backend.services.access import Principal
from backend.services.metrics import import_ultrahuman

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ultrahuman"
TOKEN = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"
EMAIL = "patient@example.com"
PID = "PAT_0000c0de"
NURSE = Principal("nina", Role.NURSE)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class PartnerApi:
    """Scripted fake of the partner endpoint: per date a queue of (status, body, headers)."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple[int, bytes, dict[str, str]]]] = {}
        self.default: tuple[int, bytes, dict[str, str]] = (200, fixture("day_empty.json"), {})
        self.requests: list[dict[str, Any]] = []
        self.expired_from: str | None = None  # the token stops working from this date on

    def respond(self, path: str, headers: Any) -> tuple[int, bytes, dict[str, str]]:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(
            {"path": url.path, "query": query, "auth": headers.get("Authorization"), "at": time.monotonic()}
        )
        day = query.get("date", "")
        if url.path != "/api/v1/metrics":
            return 404, b'{"error": "not found"}', {}
        if headers.get("Authorization") != TOKEN or (self.expired_from and day >= self.expired_from):
            return 401, fixture("error_401.json"), {}
        queue = self.script.get(day)
        return queue.pop(0) if queue else self.default


@pytest.fixture
def api() -> Iterator[tuple[PartnerApi, str]]:
    state = PartnerApi()

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
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    stores = open_sqlite_store(tmp_path / "db.sqlite3")
    stores.patients.add(Patient(patient_id=PID, name="Dev"))
    return stores, LocalBlobStore(tmp_path / "blobs"), tmp_path / "blobs"


def client(base: str, token: str = TOKEN, **kw: Any) -> UltrahumanClient:
    waits: list[float] = []
    c = UltrahumanClient(base, token, timeout=5, min_interval=0.0, backoff=0.01, sleep=waits.append, **kw)
    c.waits = waits  # type: ignore[attr-defined]
    return c


def stored_blobs(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts]


def test_backfill_one_call_per_day_with_the_token_header(api, env) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    stores, blobs, _root = env
    state.script = {
        "2024-03-15": [(200, fixture("day_full.json"), {})],
        "2024-03-16": [(200, fixture("day_legacy.json"), {})],
    }
    report = import_ultrahuman(NURSE, stores, blobs, PID, client(base), EMAIL, date(2024, 3, 15), date(2024, 3, 17))
    assert [r["query"] for r in state.requests] == [{"email": EMAIL, "date": f"2024-03-{d}"} for d in (15, 16, 17)]
    assert all(r["auth"] == TOKEN for r in state.requests)
    days = {(d.metric, d.day) for d in stores.metrics.days(PID)}
    assert {("resting_hr", "2024-03-15"), ("steps", "2024-03-15"), ("sleep_hours", "2024-03-16")} <= days
    assert "2024-03-17: no data" in report.notes
    saved = json.loads(blobs.get(report.blob_key))  # type: ignore[arg-type]
    assert sorted(saved) == ["2024-03-15", "2024-03-16", "2024-03-17"]


def test_wrong_token_is_a_clear_error_and_nothing_is_saved(api, env) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    stores, blobs, root = env
    with pytest.raises(CredentialsRejected, match="wrong or has expired") as err:
        import_ultrahuman(
            NURSE, stores, blobs, PID, client(base, token="nope"), EMAIL, date(2024, 3, 15), date(2024, 3, 16)
        )
    assert "Invalid or expired authorization token" in err.value.message
    assert len(state.requests) == 1  # no retries on a rejected token
    assert stores.metrics.days(PID) == [] and stored_blobs(root) == []


def test_token_expiring_mid_backfill_saves_nothing(api, env) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    stores, blobs, root = env
    state.script = {"2024-03-15": [(200, fixture("day_full.json"), {})]}
    state.expired_from = "2024-03-16"
    with pytest.raises(CredentialsRejected):
        import_ultrahuman(NURSE, stores, blobs, PID, client(base), EMAIL, date(2024, 3, 15), date(2024, 3, 17))
    assert stores.metrics.days(PID) == [] and stored_blobs(root) == []


def test_429_then_success_honours_retry_after(api) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    state.script = {
        "2024-03-15": [(429, b'{"error": "slow down"}', {"Retry-After": "2"}), (200, fixture("day_full.json"), {})]
    }
    c = client(base)
    body = c.fetch_day(EMAIL, date(2024, 3, 15))
    assert body["data"]["metric_data"][0]["type"] == "hr"
    assert len(state.requests) == 2 and c.waits == [2.0]  # type: ignore[attr-defined]


def test_server_errors_back_off_then_fail_clearly_without_saving(api, env) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    stores, blobs, root = env
    state.script = {"2024-03-15": [(200, fixture("day_full.json"), {})], "2024-03-16": [(500, b"oops", {})] * 10}
    c = client(base, max_retries=3)
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        import_ultrahuman(NURSE, stores, blobs, PID, c, EMAIL, date(2024, 3, 15), date(2024, 3, 16))
    assert len(state.requests) == 1 + 4
    waits = c.waits  # type: ignore[attr-defined]
    assert len(waits) == 3 and waits[2] > waits[0]  # exponential backoff
    assert stores.metrics.days(PID) == [] and stored_blobs(root) == []


def test_rate_limit_spaces_the_calls(api) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    c = UltrahumanClient(base, TOKEN, min_interval=0.05)
    c.backfill(EMAIL, date(2024, 3, 1), date(2024, 3, 4))
    gaps = [b["at"] - a["at"] for a, b in zip(state.requests, state.requests[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.045


def test_unreachable_api_is_a_clear_error() -> None:
    c = client("http://127.0.0.1:9", max_retries=1)
    with pytest.raises(ProviderUnavailable, match="cannot be reached"):
        c.fetch_day(EMAIL, date(2024, 3, 1))
