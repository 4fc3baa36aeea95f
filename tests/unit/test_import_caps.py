"""Health-data files that would not fit one import are refused with a message, and JSON streams in blocks."""

from __future__ import annotations

import io
import json

import pytest

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog
from backend.formats.importers import _json, csv_wide, fhir_observations, read_samples, ultrahuman


def test_json_that_cannot_stream_is_refused_over_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "MAX_JSON_BYTES", 1_000)
    single = {"resourceType": "Observation", "id": "x" * 2_000}  # one resource: parsed whole, so capped
    with pytest.raises(UnsupportedInput, match="Export a shorter period"):
        list(read_samples(io.BytesIO(json.dumps(single).encode()), "fhir", ImportLog()))


def test_a_bundle_and_a_backfill_stream_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "MAX_JSON_BYTES", 1_000)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": _observation(k)} for k in range(100)]}
    assert sum(len(f) for f in read_samples(io.BytesIO(json.dumps(bundle).encode()), "fhir", ImportLog())) == 100
    days = {f"2024-03-{d:02d}": _day(6) for d in range(1, 5)}
    assert sum(len(f) for f in read_samples(io.BytesIO(json.dumps(days).encode()), "ultrahuman", ImportLog())) == 24


def test_a_second_patient_in_a_streamed_bundle_stops_the_import() -> None:
    entries = [{"resource": _observation(k) | {"subject": {"reference": f"Patient/{k // 50}"}}} for k in range(100)]
    bundle = json.dumps({"entry": entries, "resourceType": "Bundle"}).encode()  # the type may come last
    with pytest.raises(UnsupportedInput, match="at least 2 patients"):
        list(read_samples(io.BytesIO(bundle), "fhir", ImportLog()))


def test_broken_json_is_refused_with_a_message() -> None:
    for fmt in ("fhir", "ultrahuman"):
        with pytest.raises(UnsupportedInput, match="not valid JSON"):
            list(read_samples(io.BytesIO(b'{"resourceType": "Bundle", "entry": [{"resource": '), fmt, ImportLog()))


def test_a_wide_csv_over_the_row_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_wide, "MAX_ROWS", 5)
    rows = "date,resting_hr\n" + "".join(f"2024-03-{d:02d},60\n" for d in range(1, 11))
    with pytest.raises(UnsupportedInput, match="more than 5 rows"):
        list(read_samples(io.BytesIO(rows.encode()), "csv_wide", ImportLog()))


def _observation(k: int) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "valueQuantity": {"value": 60 + k % 20, "unit": "/min"},
        "effectiveDateTime": f"2024-03-01T{k // 60 % 24:02d}:{k % 60:02d}:00Z",
    }


def test_fhir_observations_come_in_frames_of_a_bounded_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir_observations, "BLOCK_SAMPLES", 40)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": _observation(k)} for k in range(100)]}
    frames = list(read_samples(io.BytesIO(json.dumps(bundle).encode()), "fhir", ImportLog()))
    assert [len(f) for f in frames] == [40, 40, 20]


def _day(n: int) -> dict[str, object]:
    values = [{"value": 60, "timestamp": 1709251200 + 60 * k} for k in range(n)]
    return {"data": {"metric_data": [{"type": "hr", "object": {"values": values}}]}}


def test_ultrahuman_days_come_in_frames_of_a_bounded_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ultrahuman, "BLOCK_SAMPLES", 10)
    day = {
        "data": {
            "metric_data": [
                {
                    "type": "hr",
                    "object": {"values": [{"value": 60, "timestamp": 1709251200 + 60 * k} for k in range(6)]},
                }
            ]
        }
    }
    doc = {f"2024-03-{d:02d}": day for d in range(1, 5)}
    frames = list(read_samples(io.BytesIO(json.dumps(doc).encode()), "ultrahuman", ImportLog()))
    assert [len(f) for f in frames if len(f)] == [12, 12]
