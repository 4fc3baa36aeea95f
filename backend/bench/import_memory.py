"""Peak memory of a wearable import: a generated Apple Health export.zip, streamed and aggregated per day.

Generates a seeded export that looks like months of Apple Watch + iPhone data (heart rate every 5 minutes,
steps from both devices, active energy every 2 minutes, nightly sleep stages, daily resting heart rate, HRV
and SpO2), imports it into a throw-away SQLite data dir and reports the peak of traced allocations (Python
objects and numpy arrays) while importing. ``--compare`` also measures the old way on the same file: every
frame kept, then de-duplicated and aggregated at once. Figures only, never a test: timings are inflated on a
shared machine, and tracemalloc slows everything down.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
import time
import tracemalloc
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.metrics import ImportLog, aggregate, daily_aggregates, deduplicate, load_catalog, normalise
from backend.domain.metrics.normalise import assign_patient
from backend.domain.models import Patient
from backend.formats.importers.apple_health import read_apple_health
from backend.services.metrics import import_file

PID = "PAT_0000bench"
IST = timezone(timedelta(hours=5, minutes=30))
Q = "HKQuantityTypeIdentifier"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_IN">\n'
    ' <ExportDate value="2024-09-01 08:00:00 +0530"/>\n <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-01-01"/>\n'
)
MB = 1024**2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=180, help="days of data in the generated export (default 180)")
    parser.add_argument("--hr-every", type=int, default=300, help="seconds between heart-rate readings (default 300)")
    parser.add_argument("--compare", action="store_true", help="also measure keeping every frame (the old way)")
    parser.add_argument(
        "--source", choices=("apple", "ultrahuman"), default="apple", help="the generated file (default apple)"
    )


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S %z")


def _record(kind: str, start: datetime, value: str, unit: str, source: str, end: datetime | None = None) -> str:
    s, e = _when(start), _when(end or start)
    unit_attr = f' unit="{unit}"' if unit else ""
    return (
        f' <Record type="{kind}" sourceName="{source}" sourceVersion="10.1" device="&lt;&lt;HKDevice&gt;&gt;"'
        f'{unit_attr} creationDate="{e}" startDate="{s}" endDate="{e}" value="{value}">\n'
        '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
    )


def _day(xml: io.StringIO, day: datetime, rng: random.Random, hr_every: int) -> int:
    n = 0
    for k in range(0, 24 * 3600, hr_every):
        xml.write(_record(f"{Q}HeartRate", day + timedelta(seconds=k), str(rng.randint(52, 110)), "count/min", "Watch"))
        n += 1
    for k in range(0, 24 * 60, 2):
        xml.write(_record(f"{Q}ActiveEnergyBurned", day + timedelta(minutes=k), f"{rng.random():.3f}", "kcal", "Watch"))
        n += 1
    for k in range(6 * 60, 22 * 60, 10):
        t = day + timedelta(minutes=k)
        for source in ("iPhone", "Watch"):
            xml.write(_record(f"{Q}StepCount", t, str(rng.randint(0, 400)), "count", source, t + timedelta(minutes=10)))
            n += 1
    for h in (2, 8, 14, 20):
        t = day + timedelta(hours=h)
        xml.write(_record(f"{Q}HeartRateVariabilitySDNN", t, str(rng.randint(25, 70)), "ms", "Watch"))
        xml.write(_record(f"{Q}OxygenSaturation", t, f"0.{rng.randint(94, 99)}", "%", "Watch"))
        n += 2
    xml.write(_record(f"{Q}RestingHeartRate", day + timedelta(hours=7), str(rng.randint(52, 62)), "count/min", "Watch"))
    bed = day - timedelta(hours=1, minutes=rng.randint(0, 60))
    for stage, minutes in (("AsleepCore", 150), ("AsleepDeep", 60), ("AsleepREM", 90), ("AsleepCore", 120)):
        end = bed + timedelta(minutes=minutes)
        value = f"HKCategoryValueSleepAnalysis{stage}"
        xml.write(_record("HKCategoryTypeIdentifierSleepAnalysis", bed, value, "", "Watch", end))
        bed = end
    return n + 5


def generate_export(days: int, seed: int = 16, hr_every: int = 300) -> tuple[bytes, int, int]:
    """(export.zip bytes, unpacked XML bytes, number of records) of ``days`` days of generated data."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=IST)
    xml = io.StringIO()
    xml.write(HEAD)
    records = sum(_day(xml, start + timedelta(days=d), rng, hr_every) for d in range(days))
    xml.write("</HealthData>\n")
    raw = xml.getvalue().encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export.xml", raw)
    return out.getvalue(), len(raw), records


def generate_ultrahuman(days: int, hr_every: int = 300) -> bytes:
    """An Ultrahuman backfill file ({"YYYY-MM-DD": response}) of ``days`` days, as the API import stores it."""
    rng = random.Random(16)
    start = int(datetime(2024, 3, 1, tzinfo=IST).timestamp())
    doc = {}
    for d in range(days):
        t0 = start + d * 86_400
        series = [{"value": rng.randint(52, 110), "timestamp": t0 + k} for k in range(0, 86_400, hr_every)]
        night = [{"value": round(rng.uniform(35.5, 36.5), 2), "timestamp": t0 + k} for k in range(0, 6 * 3600, 300)]
        day = (datetime(2024, 3, 1) + timedelta(days=d)).date().isoformat()
        doc[day] = {
            "data": {
                "metric_data": [
                    {"type": "hr", "object": {"values": series, "unit": "BPM"}},
                    {"type": "temp", "object": {"values": night, "unit": "celsius"}},
                    {"type": "hrv", "object": {"values": [dict(v, value=rng.randint(20, 80)) for v in night]}},
                ],
                "latest_time_zone": "Asia/Kolkata",
            }
        }
    return json.dumps(doc, separators=(",", ":")).encode()


def _traced(work: Any) -> tuple[Any, float, float]:
    """(result, peak traced MB, seconds) of ``work()``."""
    tracemalloc.start()
    began = time.perf_counter()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1] / MB, time.perf_counter() - began
    finally:
        tracemalloc.stop()


def _streamed(data: bytes) -> int:
    """Parsing and aggregation alone, as the import does them: each frame aggregated per day and dropped."""
    log = ImportLog()
    frames = read_apple_health(io.BytesIO(data), log)
    return len(aggregate(frames, load_catalog(), log, PID, lambda: log.tz_hint or "UTC").days)


def _keep_every_frame(data: bytes) -> int:
    """The old way: every parsed frame in a list, then one de-duplication and one aggregation."""
    catalog, log = load_catalog(), ImportLog()
    frames = list(read_apple_health(io.BytesIO(data), log))
    clean = [normalise(assign_patient(f, PID, log), catalog, log) for f in frames if not f.empty]
    samples, _ = deduplicate(pd.concat(clean, ignore_index=True))
    return len(daily_aggregates(samples, catalog, log.tz_hint or "UTC"))


def _whole_json(data: bytes) -> int:
    """What parsing a JSON upload whole costs (the old way for every JSON import)."""
    return len(json.loads(data))


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.source == "ultrahuman":
        data, name, size = generate_ultrahuman(args.days, args.hr_every), "backfill.json", {}
    else:
        data, xml_bytes, records = generate_export(args.days, hr_every=args.hr_every)
        name = "export.zip"
        size = {"zip_mb": round(len(data) / MB, 2), "xml_mb": round(xml_bytes / MB, 1), "records": records}
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "db.sqlite3")
        stores.patients.add(Patient(patient_id=PID, name="Bench Patient"))
        blobs = LocalBlobStore(Path(tmp) / "blobs")
        report, peak, seconds = _traced(lambda: import_file(stores, blobs, PID, data, name))
    result: dict[str, Any] = {
        "source": args.source,
        "days": args.days,
        "file_mb": round(len(data) / MB, 1),
        **size,
        "samples": report.imported_samples,
        "daily_values": report.days_written,
        "peak_traced_mb": round(peak, 1),
        "seconds_traced": round(seconds, 1),
    }
    if args.compare and args.source == "ultrahuman":
        _, whole_peak, _ = _traced(lambda: _whole_json(data))
        result["json_parsed_whole_peak_mb"] = round(whole_peak, 1)
    elif args.compare:
        for name, work in (("parse_and_aggregate", _streamed), ("every_frame_kept", _keep_every_frame)):
            _, other_peak, other_seconds = _traced(lambda work=work: work(data))  # type: ignore[misc]
            result[f"{name}_peak_mb"] = round(other_peak, 1)
            result[f"{name}_seconds"] = round(other_seconds, 1)
    return result
