"""FHIR R4 Observation bundles and saved Ultrahuman JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import UnsupportedInput
from backend.domain.models import Patient, Role
from backend.services.access import Principal
from backend.services.metrics import import_metrics

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ultrahuman"
NURSE = Principal("nina", Role.NURSE)
PID = "PAT_0000f41e"


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    stores = open_sqlite_store(tmp_path / "db.sqlite3")
    stores.patients.add(Patient(patient_id=PID, name="Kiran"))
    return stores, LocalBlobStore(tmp_path / "blobs")


def obs(code: str, value: float, unit: str, when: str, status: str = "final", **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/123"},
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        **extra,
    }
    if when:
        resource["effectiveDateTime"] = when
    return {"resource": resource}


def bundle(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": list(entries)}).encode()


def test_fhir_bundle_by_loinc(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    data = bundle(
        obs("8867-4", 61, "/min", "2024-03-02T02:00:00+05:30"),
        obs("40443-4", 55, "/min", "2024-03-02T07:00:00+05:30"),
        obs("59408-5", 96, "%", "2024-03-02T03:00:00+05:30"),
        obs("8310-5", 99.5, "[degF]", "2024-03-02T08:00:00+05:30"),
        obs(
            "55423-8",
            7000,
            "{steps}",
            "",
            effectivePeriod={"start": "2024-03-02T00:00:00+05:30", "end": "2024-03-02T23:59:00+05:30"},
        ),
        obs("93832-4", 420, "min", "2024-03-02T06:30:00+05:30"),
        obs("8867-4", 70, "/min", "2024-03-02T02:30:00+05:30", status="entered-in-error"),
        obs("2339-0", 5.4, "mmol/L", "2024-03-02T08:00:00+05:30"),
        obs("8867-4", 62, "/min", ""),
    )
    report = import_metrics(NURSE, stores, blobs, PID, data, "bundle.json", tz="Asia/Kolkata")
    assert report.format == "fhir"
    days = {(d.metric, d.day): d.value for d in stores.metrics.days(PID)}
    assert days[("resting_hr", "2024-03-02")] == 55
    assert days[("spo2", "2024-03-02")] == 96
    assert days[("temperature", "2024-03-02")] == pytest.approx(37.5, abs=0.01)
    assert days[("steps", "2024-03-02")] == 7000
    assert days[("sleep_hours", "2024-03-02")] == pytest.approx(7.0)
    assert report.unknown_metrics == ["LOINC 2339-0"]
    assert dict(report.rejected) == {
        7: "Observation 7 has status 'entered-in-error'",
        9: "Observation 9 (heart_rate) has no effective time",
    }


def test_fhir_of_two_patients_or_other_resources_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    other = obs("8867-4", 61, "/min", "2024-03-02T02:00:00Z")
    other["resource"]["subject"] = {"reference": "Patient/999"}
    with pytest.raises(UnsupportedInput, match="2 patients"):
        import_metrics(
            NURSE, stores, blobs, PID, bundle(obs("8867-4", 61, "/min", "2024-03-02T02:00:00Z"), other), "b.json"
        )
    with pytest.raises(UnsupportedInput, match="FHIR Patient"):
        import_metrics(NURSE, stores, blobs, PID, json.dumps({"resourceType": "Patient"}).encode(), "p.json")


def test_ultrahuman_response_file_imports_in_the_users_time_zone(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    report = import_metrics(NURSE, stores, blobs, PID, (FIXTURES / "day_full.json").read_bytes(), "uh.json")
    assert report.format == "ultrahuman" and report.rejected == [] and report.unknown_metrics == []
    days = {(d.metric, d.day): d.value for d in stores.metrics.days(PID)}
    assert days[("resting_hr", "2024-03-15")] == 55  # night_rhr wins over the HR percentile
    assert days[("hrv", "2024-03-15")] == 49
    assert days[("temperature", "2024-03-15")] == pytest.approx(33.55)
    assert days[("steps", "2024-03-15")] == 4000
    assert days[("spo2", "2024-03-15")] == pytest.approx(96.5)  # zero-padded slots are not readings
    assert days[("sleep_hours", "2024-03-15")] == pytest.approx(7.25)
    assert days[("recovery_index", "2024-03-15")] == 78 and days[("movement_index", "2024-03-15")] == 64


def test_ultrahuman_backfill_file_with_legacy_and_empty_days(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    doc = {name: json.loads((FIXTURES / f"day_{kind}.json").read_text()) for name, kind in
           [("2024-03-15", "full"), ("2024-03-16", "legacy"), ("2024-03-17", "empty")]}  # fmt: skip
    report = import_metrics(NURSE, stores, blobs, PID, json.dumps(doc).encode(), "backfill.json")
    days = {(d.metric, d.day): d.value for d in stores.metrics.days(PID)}
    assert days[("resting_hr", "2024-03-16")] == 61 and days[("hrv", "2024-03-16")] == 38
    assert days[("sleep_hours", "2024-03-16")] == pytest.approx(6.5)
    assert "2024-03-17: no data" in report.notes


def test_json_that_is_not_ultrahuman_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    stores, blobs = env
    with pytest.raises(UnsupportedInput, match="not an Ultrahuman export"):
        import_metrics(NURSE, stores, blobs, PID, b'{"hello": "world"}', "x.json")
    with pytest.raises(UnsupportedInput, match="not valid JSON"):
        import_metrics(NURSE, stores, blobs, PID, b'{"data": ', "x.json")
