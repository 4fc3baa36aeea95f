"""The daily wearable sync against the local Ultrahuman stand-in: a real SQLite file and blob folder.

Linked patients get yesterday's data as daily metrics, the anomaly episodes covering that day and their
explanations; a second run changes nothing and calls nothing; one patient failing (5xx after the backoff,
a 401) never stops the others, and the next run fetches only those; two processes syncing one day at once
fetch each patient once between them (the day's lease row in the record store).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.adapters.wearables.ultrahuman_api import UltrahumanClient
from backend.domain.models import MetricDay, Patient
from backend.domain.sync_schedule import lease_name
from backend.ports import RecordStore
from backend.services.wearable_sync import WearableSyncDeps, sync_wearables
from tests.conftest import ROOT
from tests.helpers.ultrahuman_server import PartnerApi, day_response, fixture, partner_api

TOKEN = "partner-token-for-tests-0123456789abcdef"
DAY = date(2026, 11, 30)
PATIENTS = {  # patient id -> linked account (None: not linked)
    "PAT_0000000a": "asha@example.com",  # a resting-HR rise and HRV fall on DAY: an anomaly episode
    "PAT_0000000b": "bala@example.com",
    "PAT_0000000c": "chitra@example.com",
    "PAT_0000000d": None,
}


def _seed(stores: RecordStore) -> None:
    for n, (pid, email) in enumerate(PATIENTS.items()):
        stores.patients.add(Patient(patient_id=pid, name=f"Patient {pid[-1]}", ultrahuman_email=email, created_at=n))
    # Four weeks of the first patient's own baseline, imported earlier from a file.
    baseline = [
        MetricDay(
            patient_id="PAT_0000000a",
            metric=metric,
            day=(DAY - timedelta(days=i)).isoformat(),
            value=value + i % 3,
            unit=unit,
            source="csv_long",
        )
        for i in range(1, 36)
        for metric, value, unit in (("resting_hr", 57.0, "bpm"), ("hrv", 49.0, "ms"))
    ]
    stores.metrics.upsert_days(baseline)


@pytest.fixture
def api() -> Iterator[tuple[PartnerApi, str]]:
    with partner_api(TOKEN) as (state, base):
        state.days[("asha@example.com", DAY.isoformat())] = day_response(DAY, resting_hr=71, hrv=33)
        for email in ("bala@example.com", "chitra@example.com"):
            state.days[(email, DAY.isoformat())] = day_response(DAY)
        yield state, base


@pytest.fixture
def deps(tmp_path: Path, api: tuple[PartnerApi, str]) -> WearableSyncDeps:
    stores = open_sqlite_store(tmp_path / "copilot.sqlite3")
    _seed(stores)
    waits: list[float] = []
    client = UltrahumanClient(api[1], TOKEN, timeout=5, min_interval=0.0, backoff=0.01, sleep=waits.append)
    clock = iter(range(1_000_000, 10**9, 1_000))  # epoch ms, one second a reading
    return WearableSyncDeps(stores, LocalBlobStore(tmp_path / "blobs"), client, lambda: next(clock), owner="test-host")


def _stored(stores: RecordStore) -> list[tuple[str, str, str, float]]:
    return [(d.patient_id, d.metric, d.day, d.value) for pid in PATIENTS for d in stores.metrics.days(pid)]


def test_linked_patients_get_the_day_its_anomalies_and_explanations(deps, api) -> None:  # type: ignore[no-untyped-def]
    state, _ = api
    report = sync_wearables(deps, DAY)
    assert report.ran and not report.failed and report.counts() == {"imported": 3, "skipped": 0, "failed": 0}
    assert sorted(q["email"] for q in state.calls()) == ["asha@example.com", "bala@example.com", "chitra@example.com"]
    assert {q["date"] for q in state.calls()} == {DAY.isoformat()}  # yesterday only, one call per patient
    by_id = {p.patient_id: p for p in report.patients}
    assert "PAT_0000000d" not in by_id  # not linked: never asked for
    day_values = {(d.metric, d.value) for d in deps.stores.metrics.days("PAT_0000000a", start="2026-11-30")}
    assert ("resting_hr", 71.0) in day_values and ("steps", 6000.0) in day_values
    found = {e["metric"]: e for e in by_id["PAT_0000000a"].episodes}
    assert {"resting_hr", "hrv"} <= set(found)
    assert "above" in found["resting_hr"]["explanation"] and "median" in found["resting_hr"]["explanation"]
    assert by_id["PAT_0000000b"].episodes == ()  # no baseline yet, nothing unusual
    lease = deps.stores.leases.get(lease_name(DAY))
    assert lease is not None and lease.done and lease.detail == "3 imported, 0 skipped, 0 failed"
    trail = [(e.actor, e.role, e.action, e.patient_id) for e in deps.stores.audit.query(limit=20).items]
    assert ("(command line)", "operator", "wearables.sync", None) in trail
    assert ("(command line)", "operator", "metrics.import", "PAT_0000000b") in trail
    assert json.loads(json.dumps(report.to_dict()))["counts"]["imported"] == 3


def test_running_twice_changes_nothing(deps, api) -> None:  # type: ignore[no-untyped-def]
    state, _ = api
    sync_wearables(deps, DAY)
    stored, calls = _stored(deps.stores), len(state.calls())
    again = sync_wearables(deps, DAY)
    assert (again.ran, again.already_done, again.patients) == (False, True, [])
    # Even without the day's lease (a store that keeps none), the days already stored are skipped unfetched.
    unguarded = dataclasses.replace(deps, stores=dataclasses.replace(deps.stores, leases=None))
    third = sync_wearables(unguarded, DAY)
    assert third.ran and third.counts() == {"imported": 0, "skipped": 3, "failed": 0}
    assert all("imported already" in p.reason for p in third.patients)
    assert len(state.calls()) == calls and _stored(deps.stores) == stored


def test_one_patient_failing_never_stops_the_others(deps, api) -> None:  # type: ignore[no-untyped-def]
    state, _ = api
    state.by_email["asha@example.com"] = [(503, b'{"error": "maintenance"}', {})] * 5  # every attempt fails
    state.by_email["chitra@example.com"] = [(401, fixture("error_401.json"), {})]
    report = sync_wearables(deps, DAY)
    by_id = {p.patient_id: p for p in report.patients}
    assert report.counts() == {"imported": 1, "skipped": 0, "failed": 2}
    assert by_id["PAT_0000000b"].status == "imported"
    assert by_id["PAT_0000000a"].status == "failed" and "HTTP 503" in by_id["PAT_0000000a"].reason
    assert by_id["PAT_0000000c"].status == "failed" and "HTTP 401" in by_id["PAT_0000000c"].reason
    assert len(state.calls("chitra@example.com")) == 1  # a rejected token is not retried
    assert len(state.calls("asha@example.com")) == 5  # the client's backoff: 1 + 4 retries
    assert deps.stores.metrics.days("PAT_0000000c", start=DAY.isoformat()) == []
    lease = deps.stores.leases.get(lease_name(DAY))
    assert lease is not None and not lease.done  # released: the day is retried
    # The API is back: the next run fetches only the two that failed.
    before = len(state.calls())
    retry = sync_wearables(deps, DAY)
    assert retry.counts() == {"imported": 2, "skipped": 1, "failed": 0}
    assert sorted(q["email"] for q in state.calls()[before:]) == ["asha@example.com", "chitra@example.com"]
    assert deps.stores.leases.get(lease_name(DAY)).done  # type: ignore[union-attr]


def test_a_rejected_token_fails_every_patient_with_the_reason(deps, api) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    deps.client = UltrahumanClient(base, "not-the-token", min_interval=0.0, sleep=lambda s: None)
    report = sync_wearables(deps, DAY)
    assert report.counts() == {"imported": 0, "skipped": 0, "failed": 3}
    assert all("HTTP 401" in p.reason and "wrong or has expired" in p.reason for p in report.patients)
    assert len(state.calls()) == 3  # no retries on a rejected token


def test_two_processes_sync_each_patient_once_between_them(tmp_path: Path, api) -> None:  # type: ignore[no-untyped-def]
    state, base = api
    _seed(open_sqlite_store(tmp_path / "copilot.sqlite3"))
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(tmp_path),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_ULTRAHUMAN_TOKEN": TOKEN,
        "COPILOT_ULTRAHUMAN_URL": base,
        "COPILOT_SYNC_TIMEZONE": "Asia/Kolkata",
    }
    command = [sys.executable, "-m", "backend", "sync", "wearables", "--day", DAY.isoformat(), "--json"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sorted(r["ran"] for r in reports) == [False, True]
    (ran,) = [r for r in reports if r["ran"]]
    assert ran["counts"] == {"imported": 3, "skipped": 0, "failed": 0}
    # Whichever came second found the day held or done: each linked account was fetched exactly once.
    assert sorted(q["email"] for q in state.calls()) == ["asha@example.com", "bala@example.com", "chitra@example.com"]
