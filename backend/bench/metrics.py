"""Health metrics speed: import 1,000,000 intraday samples (long CSV) and build one patient's 2-year page.

Targets (issue "Health metrics"): import <= 10 s, page (detection + 6 figures) <= 1 s server-side.
Runs against the real offline adapters (SQLite record store, local blob store) in a temp directory.
Detection for 1,000 patients is measured by ``bench detection``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.charts.metrics import build_patient_page
from backend.domain.anomaly import synth_patient_days
from backend.domain.models import MetricDay, Patient
from backend.services.metrics import days_frame, import_file

IMPORT_TARGET_S = 10.0
PAGE_TARGET_S = 1.0
# Readings per day of one patient: HR every 5 min, steps every 15 min, HRV/temperature/SpO2 every 5 min at night.
_PER_DAY = {
    "heart_rate": (288, 0, 24),
    "steps": (96, 0, 24),
    "hrv": (72, 0, 6),
    "temperature": (72, 0, 6),
    "spo2": (72, 0, 6),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=1_000_000, help="intraday samples to import (default 1,000,000)")
    parser.add_argument("--patients", type=int, default=4, help="patients the samples are spread over (default 4)")
    parser.add_argument("--page-days", type=int, default=730, help="days of history on the page (default 730)")
    parser.add_argument("--repeat", type=int, default=3, help="page builds to time; the median is reported (default 3)")


def long_csv(samples: int, patients: int, seed: int = 7) -> bytes:
    """A long-format CSV of about ``samples`` plausible intraday readings (epoch-second timestamps)."""
    rng = np.random.default_rng(seed)
    per_day = sum(n for n, _, _ in _PER_DAY.values())
    days = max(1, int(np.ceil(samples / (per_day * patients))))
    t0 = int(pd.Timestamp("2024-01-01", tz="UTC").timestamp())
    parts = []
    for metric, (n, h0, h1) in _PER_DAY.items():
        offsets = np.linspace(h0 * 3600, h1 * 3600, n, endpoint=False).astype(np.int64)
        ts = (t0 + np.arange(days)[:, None] * 86400 + offsets[None, :]).ravel()
        base = {
            "heart_rate": (70, 12),
            "steps": (90, 60),
            "hrv": (45, 10),
            "temperature": (33.5, 0.4),
            "spo2": (96.5, 1.2),
        }[metric]
        for p in range(patients):
            values = rng.normal(base[0], base[1], ts.size)
            values = np.clip(values, 0, 100) if metric == "spo2" else np.abs(values)
            parts.append(
                pd.DataFrame(
                    {
                        "patient_id": f"PAT_bench{p:03d}",
                        "timestamp": ts,
                        "metric": metric,
                        "value": values.round(1),
                        "unit": "",
                    }
                )
            )
    frame = pd.concat(parts, ignore_index=True).iloc[:samples]
    return frame.to_csv(index=False).encode()


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = long_csv(args.samples, args.patients)
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "bench.sqlite3")
        blobs = LocalBlobStore(Path(tmp) / "blobs")
        for p in range(args.patients):
            stores.patients.add(Patient(patient_id=f"PAT_bench{p:03d}", name=f"Bench {p}"))
        t = time.perf_counter()
        report = import_file(stores, blobs, None, data, "bench.csv", tz="UTC")
        import_s = time.perf_counter() - t
        t = time.perf_counter()
        again = import_file(stores, blobs, None, data, "bench.csv", tz="UTC")
        reimport_s = time.perf_counter() - t

        pid = "PAT_benchpage"
        stores.patients.add(Patient(patient_id=pid, name="Bench page"))
        synth = synth_patient_days(args.page_days, seed=11, episodes=[(args.page_days - 40, args.page_days - 35)])
        stores.metrics.upsert_days(
            MetricDay(patient_id=pid, metric=str(m), day=pd.Timestamp(d).date().isoformat(), value=float(v))
            for d, m, v in zip(synth["day"], synth["metric"], synth["value"], strict=True)
        )
        build_patient_page(days_frame(stores.metrics.days(pid)))  # warm-up: imports and caches
        timings = []
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            page = build_patient_page(days_frame(stores.metrics.days(pid)))
            timings.append(time.perf_counter() - t)
        page_s = statistics.median(timings)
    return {
        "import": {
            "samples_in_file": args.samples,
            "file_mb": round(len(data) / 1e6, 1),
            "imported_samples": report.imported_samples,
            "rejected": report.rejected_total,
            "days_written": report.days_written,
            "seconds": round(import_s, 3),
            "samples_per_second": round(report.imported_samples / import_s),
            "target_seconds": IMPORT_TARGET_S,
            "ok": import_s <= IMPORT_TARGET_S,
            "reimport_seconds": round(reimport_s, 3),
            "reimport_idempotent": again.already_imported and again.days_written == report.days_written,
        },
        "page": {
            "days": args.page_days,
            "figures": len(page.figures) + 1,
            "episodes": len(page.episodes),
            "seconds_median": round(page_s, 3),
            "target_seconds": PAGE_TARGET_S,
            "ok": page_s <= PAGE_TARGET_S,
        },
    }
