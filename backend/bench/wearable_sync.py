"""Daily wearable sync of N linked patients (60 days of history each) against a loopback partner-API stand-in.

What is timed is ours: one HTTP day per patient through the real client (its politeness gap set to 0 here; in
production ``min_interval`` adds 0.25 s a patient), the import, the day's anomaly episodes, the audit line and the
lease; then the second run of the same day (the lease says done: nothing fetched) and a run without the lease
(every day already stored: skipped, nothing fetched).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.adapters.wearables.ultrahuman_api import UltrahumanClient
from backend.domain.models import MetricDay, Patient, now_ms
from backend.services.wearable_sync import WearableSyncDeps, sync_wearables

DAY = date(2026, 11, 30)
TOKEN = "bench-partner-token"  # noqa: S105  # nosec B105: the stand-in's, not a secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=100, help="linked patients (default 100)")


def _day(day: date, n: int) -> bytes:
    start = int(time.mktime(day.timetuple())) + 19_800  # 05:30 after midnight UTC: the day in Asia/Kolkata
    rhr = 58 + (12 if n % 10 == 0 else 0)  # every tenth patient has a resting-HR rise: an episode to explain
    series = [
        {
            "type": "night_rhr",
            "object": {"values": [{"value": rhr + k, "timestamp": start + 3600 * (2 + k)} for k in range(3)]},
        },
        {
            "type": "hrv",
            "object": {"values": [{"value": 50 - k, "timestamp": start + 3600 * (2 + k)} for k in range(3)]},
        },
        {"type": "steps", "object": {"values": [{"value": 3000, "timestamp": start + 3600 * h} for h in (9, 15)]}},
    ]
    return json.dumps({"data": {"metric_data": series, "latest_time_zone": "Asia/Kolkata"}}).encode()


def _serve(emails: dict[str, int]) -> tuple[ThreadingHTTPServer, list[str]]:
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            calls.append(query.get("email", ""))
            body = _day(date.fromisoformat(query["date"]), emails.get(query.get("email", ""), 1))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, calls


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "bench.sqlite3")
        emails = {f"p{n}@example.com": n for n in range(args.patients)}
        history = []
        for email, n in emails.items():
            pid = f"PAT_{n:08x}"
            stores.patients.add(Patient(patient_id=pid, name=f"Bench {n}", ultrahuman_email=email))
            for i in range(1, 61):
                day = (DAY - timedelta(days=i)).isoformat()
                history += [
                    MetricDay(patient_id=pid, metric="resting_hr", day=day, value=57.0 + i % 3, unit="bpm"),
                    MetricDay(patient_id=pid, metric="hrv", day=day, value=49.0 + i % 4, unit="ms"),
                ]
        stores.metrics.upsert_days(history)
        server, calls = _serve(emails)
        try:
            client = UltrahumanClient(f"http://127.0.0.1:{server.server_address[1]}", TOKEN, min_interval=0.0)
            deps = WearableSyncDeps(stores, LocalBlobStore(Path(tmp) / "blobs"), client, now_ms, owner="bench")
            t0 = time.perf_counter()
            first = sync_wearables(deps, DAY)
            t1 = time.perf_counter()
            again = sync_wearables(deps, DAY)
            t2 = time.perf_counter()
            unguarded = dataclasses.replace(deps, stores=dataclasses.replace(stores, leases=None))
            third = sync_wearables(unguarded, DAY)
            t3 = time.perf_counter()
        finally:
            server.shutdown()
            server.server_close()
    n = max(1, args.patients)
    return {
        "patients": args.patients,
        "first_run_s": round(t1 - t0, 2),
        "per_patient_ms": round((t1 - t0) * 1000 / n, 1),
        "first_run_counts": first.counts(),
        "patients_with_an_episode_on_the_day": sum(1 for p in first.patients if p.episodes),
        "second_run_ms (lease done)": round((t2 - t1) * 1000, 2),
        "run_without_lease_ms (all skipped)": round((t3 - t2) * 1000, 1),
        "skipped_without_lease": third.counts()["skipped"],
        "api_calls_total": len(calls),
        "already_done": again.already_done,
    }
