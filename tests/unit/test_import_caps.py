"""Health-data files that would not fit one import are refused with a message, and JSON streams in blocks."""

from __future__ import annotations

import io
import json

import pytest

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog
from backend.formats import importers
from backend.formats.importers import csv_wide, fhir_observations, read_samples, ultrahuman


def test_json_over_the_cap_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "MAX_JSON_BYTES", 1_000)
    doc = json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"id": "x" * 2_000}}]}).encode()
    with pytest.raises(UnsupportedInput, match=r"at most 0 MB of JSON|Export a shorter period"):
        list(read_samples(io.BytesIO(doc), "fhir", ImportLog()))


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
