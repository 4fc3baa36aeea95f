"""Long and wide CSV imports into the real SQLite store and local blob store."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog
from backend.domain.models import Patient, Role
from backend.formats.importers.csv_long import read_csv_long
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.metrics import import_metrics

TEMPLATES = Path(__file__).resolve().parents[2] / "backend" / "data" / "templates"
NURSE = Principal("nina", Role.NURSE)
PID = "PAT_0000abcd"


@pytest.fixture
def env(tmp_path: Path) -> tuple[RecordStore, LocalBlobStore]:
    stores = open_sqlite_store(tmp_path / "db.sqlite3")
    stores.patients.add(Patient(patient_id=PID, name="Ravi Kumar"))
    return stores, LocalBlobStore(tmp_path / "blobs")


def test_long_csv_reports_malformed_lines_and_imports_the_good_rows(env: tuple[RecordStore, LocalBlobStore]) -> None:
    stores, blobs = env
    lines = [
        "patient_id,timestamp,metric,value,unit",
        f"{PID},2024-03-01T01:00:00+05:30,heart_rate,58,bpm",  # 2
        f"{PID},2024-03-01T01:05:00+05:30,heart_rate,400,bpm",  # 3 impossible
        f"{PID},2024-03-01T01:10:00+05:30,heart_rate,57",  # 4 too few fields
        f"{PID},yesterday,heart_rate,57,bpm",  # 5 bad time
        f"{PID},2024-03-01T02:00:00+05:30,temperature,98.2,°F",  # 6
        f"{PID},2024-03-01T02:00:00+05:30,temperature,60,°C",  # 7 impossible
        f"{PID},2024-03-01T02:00:00+05:30,spo2,120,%",  # 8 impossible
        f"{PID},2024-03-01T02:00:00+05:30,mood,3,",  # 9 unknown metric
        "",  # 10 blank
        f"{PID},1709244000,steps,1200,steps",  # 11 epoch seconds
        f"{PID},1709244000000,steps,1200,steps",  # 12 epoch ms: the same instant -> duplicate
        f"{PID},2024-03-01T09:00:00+05:30,steps,twelve,steps",  # 13 not a number
    ]
    report = import_metrics(
        NURSE, stores, blobs, PID, ("\n".join(lines) + "\n").encode(), "long.csv", tz="Asia/Kolkata"
    )
    by_line = dict(report.rejected)
    assert sorted(by_line) == [3, 4, 5, 7, 8, 13]
    assert "400" in by_line[3] and "expected 5 fields" in by_line[4] and "not a date" in by_line[5]
    assert "60 °C is impossible" in by_line[7] and "SpO2" in by_line[8] and "'twelve' is not a number" in by_line[13]
    assert report.unknown_metrics == ["mood"]
    assert report.duplicates == 1
    days = {(d.metric, d.day): d.value for d in stores.metrics.days(PID)}
    assert days[("temperature", "2024-03-01")] == pytest.approx(36.78, abs=0.01)
    assert days[("steps", "2024-03-01")] == 1200
    assert days[("resting_hr", "2024-03-01")] == 58
    assert report.blob_key is None  # the raw file (rows of any patient) is not kept


def test_long_csv_reimport_changes_nothing(env: tuple[RecordStore, LocalBlobStore]) -> None:
    stores, blobs = env
    data = (TEMPLATES / "metrics_long_template.csv").read_bytes().replace(b"PAT_00000000", PID.encode())
    first = import_metrics(NURSE, stores, blobs, PID, data, "template.csv")
    before = stores.metrics.days(PID)
    second = import_metrics(NURSE, stores, blobs, PID, data, "template.csv")
    assert first.days_written > 0 and first.rejected == [] and first.unknown_metrics == []
    assert second.already_imported and stores.metrics.days(PID) == before


def test_wide_template_imports_every_metric(env: tuple[RecordStore, LocalBlobStore]) -> None:
    stores, blobs = env
    report = import_metrics(
        NURSE, stores, blobs, PID, (TEMPLATES / "metrics_wide_template.csv").read_bytes(), "wide.csv"
    )
    assert report.format == "csv_wide" and report.rejected == [] and report.unknown_metrics == []
    assert {"resting_hr", "hrv", "temperature", "sleep_hours", "steps", "spo2"} <= set(report.days_by_metric)


def test_semicolon_csv_with_decimal_commas(env: tuple[RecordStore, LocalBlobStore]) -> None:
    stores, blobs = env
    data = b"date;temperature;sleep_hours\n2024-03-01;36,6;7,5\n"
    import_metrics(NURSE, stores, blobs, PID, data, "excel.csv")
    assert {d.metric: d.value for d in stores.metrics.days(PID)} == {"temperature": 36.6, "sleep_hours": 7.5}


def test_long_csv_without_required_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("patient_id,when,what\nA,1,2\n")
    with path.open("rb") as f, pytest.raises(UnsupportedInput, match="no 'timestamp', 'metric', 'value' column"):
        list(read_csv_long(f, ImportLog()))


def test_long_csv_streams_in_blocks_with_exact_line_numbers(tmp_path: Path) -> None:
    rows = ["patient_id,timestamp,metric,value,unit"]
    for i in range(30_000):
        rows.append(
            f"P1,{1_700_000_000 + 60 * i},heart_rate,{'x' if i % 7000 == 0 else 60},bpm"
            + (",extra" if i == 12_345 else "")
        )
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    log = ImportLog()
    with path.open("rb") as f:
        frames = list(read_csv_long(f, log, block_bytes=64 * 1024))
    assert len(frames) > 5
    assert sum(len(f) for f in frames) == 30_000 - 6
    assert sorted(line for line, _ in log.rejected) == [2, 7002, 12_347, 14_002, 21_002, 28_002]
