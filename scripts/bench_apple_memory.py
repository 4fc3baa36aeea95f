"""Peak memory of an Apple Health import, measured with tracemalloc on a generated export (not a timed test).

Generates a seeded ``export.zip`` that looks like half a year of Apple Watch + iPhone data (heart rate every
5 minutes, steps from both devices, active energy every 2 minutes, nightly sleep stages, daily resting heart
rate, HRV and SpO2), then imports it into a throw-away SQLite data dir and prints the sizes and the peak of
Python allocations while importing.

    .venv/bin/python scripts/bench_apple_memory.py [--days 180]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.models import Patient
from backend.services.metrics import import_file

PID = "PAT_0000bench"
IST = timezone(timedelta(hours=5, minutes=30))
Q = "HKQuantityTypeIdentifier"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_IN">\n'
    ' <ExportDate value="2024-09-01 08:00:00 +0530"/>\n <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-01-01"/>\n'
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


def generate_export(days: int, seed: int = 16) -> tuple[bytes, int, int]:
    """(export.zip bytes, unpacked XML bytes, number of records)."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=IST)
    xml = io.StringIO()
    xml.write(HEAD)
    n = 0
    for d in range(days):
        day = start + timedelta(days=d)
        for k in range(0, 24 * 60, 5):
            xml.write(
                _record(f"{Q}HeartRate", day + timedelta(minutes=k), str(rng.randint(52, 110)), "count/min", "Watch")
            )
            n += 1
        for k in range(0, 24 * 60, 2):
            t = day + timedelta(minutes=k)
            xml.write(_record(f"{Q}ActiveEnergyBurned", t, f"{rng.random():.3f}", "kcal", "Watch"))
            n += 1
        for k in range(6 * 60, 22 * 60, 10):
            t = day + timedelta(minutes=k)
            for source in ("iPhone", "Watch"):
                steps = str(rng.randint(0, 400))
                xml.write(_record(f"{Q}StepCount", t, steps, "count", source, t + timedelta(minutes=10)))
                n += 1
        for h in (2, 8, 14, 20):
            xml.write(
                _record(
                    f"{Q}HeartRateVariabilitySDNN", day + timedelta(hours=h), str(rng.randint(25, 70)), "ms", "Watch"
                )
            )
            xml.write(
                _record(f"{Q}OxygenSaturation", day + timedelta(hours=h), f"0.{rng.randint(94, 99)}", "%", "Watch")
            )
            n += 2
        xml.write(
            _record(f"{Q}RestingHeartRate", day + timedelta(hours=7), str(rng.randint(52, 62)), "count/min", "Watch")
        )
        n += 1
        bed = day - timedelta(hours=1, minutes=rng.randint(0, 60))
        for stage, minutes in (("AsleepCore", 150), ("AsleepDeep", 60), ("AsleepREM", 90), ("AsleepCore", 120)):
            end = bed + timedelta(minutes=minutes)
            kind = "HKCategoryTypeIdentifierSleepAnalysis"
            xml.write(_record(kind, bed, f"HKCategoryValueSleepAnalysis{stage}", "", "Watch", end))
            bed, n = end, n + 1
    xml.write("</HealthData>\n")
    raw = xml.getvalue().encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export.xml", raw)
    return out.getvalue(), len(raw), n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=180, help="days of data in the generated export")
    args = parser.parse_args()
    data, xml_bytes, records = generate_export(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "db.sqlite3")
        stores.patients.add(Patient(patient_id=PID, name="Bench Patient"))
        blobs = LocalBlobStore(Path(tmp) / "blobs")
        tracemalloc.start()
        began = time.perf_counter()
        report = import_file(stores, blobs, PID, data, "export.zip")
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    mb = 1024**2
    print(f"export.zip {len(data) / mb:.2f} MB -> export.xml {xml_bytes / mb:.1f} MB, {records:,} records")
    print(f"imported {report.imported_samples:,} samples -> {report.days_written} daily values")
    print(f"peak Python allocations while importing: {peak / mb:.1f} MB ({seconds:.0f} s under tracemalloc)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
