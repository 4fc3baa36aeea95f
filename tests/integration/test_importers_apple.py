"""Apple Health export.xml / export.zip: records, units, merged sleep, bounded memory."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog
from backend.domain.models import Patient, Role
from backend.formats.importers.apple_health import _Capped, open_export, read_apple_health
from backend.services.access import Principal
from backend.services.metrics import import_metrics

NURSE = Principal("nina", Role.NURSE)
PID = "PAT_0000a11e"
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_IN">
 <ExportDate value="2024-03-05 08:00:00 +0530"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-01-01"/>
"""


def record(kind: str, start: str, value: str, unit: str = "", end: str | None = None, source: str = "Watch") -> str:
    unit_attr = f' unit="{unit}"' if unit else ""
    return (
        f' <Record type="{kind}" sourceName="{source}"{unit_attr} creationDate="{start}" '
        f'startDate="{start}" endDate="{end or start}" value="{value}">\n'
        '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
    )


def export_xml() -> bytes:
    q = "HKQuantityTypeIdentifier"
    body = [record(f"{q}HeartRate", f"2024-03-02 0{h}:00:00 +0530", str(60 + h), "count/min") for h in range(1, 6)] + [
        record(f"{q}RestingHeartRate", "2024-03-02 07:00:00 +0530", "54", "count/min"),
        record(f"{q}HeartRateVariabilitySDNN", "2024-03-02 02:00:00 +0530", "50", "ms"),
        record(f"{q}HeartRateVariabilitySDNN", "2024-03-02 03:00:00 +0530", "40", "ms"),
        record(f"{q}StepCount", "2024-03-02 09:00:00 +0530", "1000", "count", "2024-03-02 09:30:00 +0530", "iPhone"),
        record(f"{q}StepCount", "2024-03-02 09:00:00 +0530", "950", "count", "2024-03-02 09:30:00 +0530", "Watch"),
        record(f"{q}OxygenSaturation", "2024-03-02 03:00:00 +0530", "0.97", "%"),
        record(f"{q}BodyTemperature", "2024-03-02 07:30:00 +0530", "98.6", "degF"),
        record(f"{q}HeartRate", "2024-03-02 04:00:00 +0530", "400", "count/min"),
        record(f"{q}ActiveEnergyBurned", "2024-03-02 09:00:00 +0530", "20", "kcal"),
        # Sleep: core + deep (watch) overlapping an "asleep" block from another app; in-bed is not sleep.
        record(
            "HKCategoryTypeIdentifierSleepAnalysis",
            "2024-03-01 23:00:00 +0530",
            "HKCategoryValueSleepAnalysisInBed",
            "",
            "2024-03-02 07:00:00 +0530",
        ),
        record(
            "HKCategoryTypeIdentifierSleepAnalysis",
            "2024-03-01 23:30:00 +0530",
            "HKCategoryValueSleepAnalysisAsleepCore",
            "",
            "2024-03-02 03:00:00 +0530",
        ),
        record(
            "HKCategoryTypeIdentifierSleepAnalysis",
            "2024-03-02 02:30:00 +0530",
            "HKCategoryValueSleepAnalysisAsleepDeep",
            "",
            "2024-03-02 05:30:00 +0530",
        ),
        record(
            "HKCategoryTypeIdentifierSleepAnalysis",
            "2024-03-02 00:00:00 +0530",
            "HKCategoryValueSleepAnalysisAsleep",
            "",
            "2024-03-02 05:00:00 +0530",
            "SleepApp",
        ),
    ]
    return (HEAD + "".join(body) + "</HealthData>\n").encode()


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    stores = open_sqlite_store(tmp_path / "db.sqlite3")
    stores.patients.add(Patient(patient_id=PID, name="Meera"))
    return stores, LocalBlobStore(tmp_path / "blobs")


def test_export_xml_imports_each_metric_in_canonical_units(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    report = import_metrics(NURSE, stores, blobs, PID, export_xml(), "export.xml")
    assert report.format == "apple_health"
    days = {(d.metric, d.day): d.value for d in stores.metrics.days(PID)}
    assert days[("resting_hr", "2024-03-02")] == 54
    assert days[("hrv", "2024-03-02")] == 45
    assert days[("steps", "2024-03-02")] == 1000  # phone and watch counted the same walk
    assert days[("spo2", "2024-03-02")] == pytest.approx(97.0)
    assert days[("temperature", "2024-03-02")] == pytest.approx(37.0, abs=0.01)
    assert days[("sleep_hours", "2024-03-02")] == pytest.approx(6.0)  # 23:30-05:30 merged (watch) beats 5 h (app)
    assert any("400" in reason for _, reason in report.rejected)


def test_export_zip_is_read_from_inside_the_archive(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export.xml", export_xml())
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
    report = import_metrics(NURSE, stores, blobs, PID, buffer.getvalue(), "export.zip")
    assert report.format == "apple_health" and report.days_by_metric["steps"] == 1


def test_other_xml_and_damaged_exports(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    with pytest.raises(UnsupportedInput, match="not an Apple Health export"):
        import_metrics(NURSE, stores, blobs, PID, b"<?xml version='1.0'?><ClinicalDocument/>", "cda.xml")
    cut = export_xml()[:-400]
    report = import_metrics(NURSE, stores, blobs, PID, cut, "export.xml")
    assert report.days_written > 0 and any("cut short" in n for n in report.notes)


def test_a_zip_unpacking_past_the_budget_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export.xml", export_xml() + b"<!--" + b" " * 3_000_000 + b"-->")
    compressed = buffer.getvalue()
    assert len(compressed) < 100_000  # a small upload that unpacks to 3 MB
    with pytest.raises(UnsupportedInput, match="would unpack to more than 2 MB"):
        open_export(io.BytesIO(compressed), max_unpacked_bytes=2 * 1024**2)
    # a member whose declared size understates what it unpacks to is stopped by the byte count
    with zipfile.ZipFile(io.BytesIO(compressed)) as archive, archive.open("apple_health_export/export.xml") as member:
        capped = io.BufferedReader(_Capped(member, 2 * 1024**2))
        with pytest.raises(UnsupportedInput, match="unpacks to more than 2 MB"):
            while capped.read(64 * 1024):
                pass
    with pytest.raises(UnsupportedInput, match="not a plausible Apple Health export"):
        list(read_apple_health(io.BytesIO(compressed), ImportLog(), max_unpacked_bytes=2 * 1024**2))


def test_memory_stays_bounded_on_a_large_export(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    with path.open("w") as f:
        f.write(HEAD)
        for i in range(60_000):
            f.write(
                record("HKQuantityTypeIdentifierActiveEnergyBurned", f"2024-03-02 0{i % 10}:00:00 +0530", "1.5", "kcal")
            )
        f.write("</HealthData>\n")
    size = path.stat().st_size
    tracemalloc.start()
    with path.open("rb") as f:
        frames = list(read_apple_health(f, ImportLog()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert frames == [] or all(frame.empty for frame in frames)
    assert size > 15_000_000 and peak < 2_000_000  # the tree never grows with the file
