"""The Ultrahuman partner API client against a local HTTP server serving documented-shape fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.adapters.wearables.ultrahuman_api import UltrahumanClient
from backend.domain.errors import ProviderUnavailable
from backend.domain.metrics.errors import CredentialsRejected
from backend.domain.models import Patient, Role
from backend.services.access import Principal
from backend.services.metrics import import_ultrahuman
from tests.helpers.ultrahuman_server import PartnerApi, fixture, partner_api

TOKEN = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"
EMAIL = "patient@example.com"
PID = "PAT_0000c0de"
NURSE = Principal("nina", Role.NURSE)


@pytest.fixture
def api() -> Iterator[tuple[PartnerApi, str]]:
    with partner_api(TOKEN) as served:
        yield served


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
    assert report.blob_key is None  # the raw responses are not kept: no record could name them


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
    now = [100.0]  # the client's clock: moves only when it sleeps, so the spacing is exact on a busy machine
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    c = UltrahumanClient(base, TOKEN, min_interval=0.05, sleep=sleep, clock=lambda: now[0])
    c.backfill(EMAIL, date(2024, 3, 1), date(2024, 3, 4))
    assert len(state.requests) == 4
    assert waits == pytest.approx([0.05, 0.05, 0.05])  # one polite wait before each call after the first


def test_unreachable_api_is_a_clear_error() -> None:
    c = client("http://127.0.0.1:9", max_retries=1)
    with pytest.raises(ProviderUnavailable, match="cannot be reached"):
        c.fetch_day(EMAIL, date(2024, 3, 1))
