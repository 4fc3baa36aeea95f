"""The import use case over the fakes: blob first, idempotent upserts, clear refusals, permissions, audit."""

from __future__ import annotations

import pytest

from backend.domain.errors import NotFound, PermissionDenied, UnsupportedInput
from backend.domain.models import Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.metrics import import_metrics, patient_days
from tests.fakes.blobs import FakeBlobs

NURSE = Principal("nina", Role.NURSE)
WIDE = (
    "date,resting_hr,hrv,temperature (°F),sleep_hours,steps,spo2,mood\n"
    "2024-03-01,62,48,97.7,7.5,8000,97,good\n"
    "2024-03-02,63,47,97.9,7.0,9000,0.96,ok\n"
    "2024-03-03,61,50,97.5,8.0,7000,98,\n"
    "2024-03-04,64,46,98.1,6.5,abc,97,\n"
    "2024-03-05,400,44,99.0,7.0,6500,120,\n"
)


@pytest.fixture
def patient(stores: RecordStore) -> str:
    stores.patients.add(Patient(patient_id="PAT_00000001", name="Asha Rao"))
    return "PAT_00000001"


def test_wide_csv_imports_days_keeps_no_raw_file_and_reports_problems(stores: RecordStore, patient: str) -> None:
    blobs = FakeBlobs()
    report = import_metrics(NURSE, stores, blobs, patient, WIDE.encode(), "days.csv")
    assert report.format == "csv_wide"
    assert report.blob_key is None and not blobs.blobs  # the raw file is not kept
    assert report.unknown_metrics == ["mood"]
    reasons = dict(report.rejected)
    assert "steps 'abc' is not a number" in reasons[5]
    assert {line for line, _ in report.rejected} == {5, 6}
    assert sum("impossible" in r for _, r in report.rejected) == 2  # HR 400 and SpO2 120 on line 6
    temps = {d.day: d.value for d in stores.metrics.days(patient, "temperature")}
    assert temps["2024-03-01"] == pytest.approx(36.5, abs=0.01)
    assert {d.day: d.value for d in stores.metrics.days(patient, "spo2")}["2024-03-02"] == pytest.approx(96.0)
    assert "temperature_dev" in report.days_by_metric
    assert stores.audit.query(patient_id=patient).items[0].action == "metrics.import"


def test_reimport_is_idempotent(stores: RecordStore, patient: str) -> None:
    blobs = FakeBlobs()
    first = import_metrics(NURSE, stores, blobs, patient, WIDE.encode(), "days.csv")
    rows = {(d.metric, d.day): d.value for d in stores.metrics.days(patient)}
    second = import_metrics(NURSE, stores, blobs, patient, WIDE.encode(), "days.csv")
    assert second.already_imported and not first.already_imported
    assert second.days_written == first.days_written and not blobs.blobs
    assert {(d.metric, d.day): d.value for d in stores.metrics.days(patient)} == rows


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"%PDF-1.7\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "PNG image"),
        (b"name,age\nA,3\n", "not a header we know"),
        (b"<html></html>", "not an Apple"),
    ],
)
def test_wrong_file_type_is_refused_and_nothing_is_stored(
    stores: RecordStore, patient: str, data: bytes, needle: str
) -> None:
    blobs = FakeBlobs()
    with pytest.raises(UnsupportedInput, match=needle):
        import_metrics(NURSE, stores, blobs, patient, data, "upload.bin")
    assert blobs.blobs == {} and stores.metrics.days(patient) == []


def test_admin_may_not_import_and_unknown_patient_is_refused(stores: RecordStore, patient: str) -> None:
    with pytest.raises(PermissionDenied):
        import_metrics(Principal("root", Role.ADMIN), stores, FakeBlobs(), patient, WIDE.encode(), "d.csv")
    with pytest.raises(NotFound):
        import_metrics(NURSE, stores, FakeBlobs(), "PAT_ffffffff", WIDE.encode(), "d.csv")


def test_long_csv_rows_of_unregistered_patients_are_dropped(stores: RecordStore, patient: str) -> None:
    data = (
        "patient_id,timestamp,metric,value,unit\n"
        f"{patient},2024-03-01T08:00:00,steps,100,\n"
        "PAT_deadbeef,2024-03-01T08:00:00,steps,5,\n"
    )
    report = import_metrics(NURSE, stores, FakeBlobs(), None, data.encode(), "long.csv")
    assert report.patient_ids == [patient]
    assert any("PAT_deadbeef" in reason for _, reason in report.rejected)
    assert stores.metrics.patients_with_metrics() == [patient]


def test_file_with_no_valid_rows_stores_nothing(stores: RecordStore, patient: str) -> None:
    blobs = FakeBlobs()
    report = import_metrics(NURSE, stores, blobs, patient, b"date,steps\n2024-03-01,abc\n", "d.csv")
    assert report.days_written == 0 and report.rejected == [(2, "steps 'abc' is not a number")]
    assert blobs.blobs == {} and "Nothing was imported" in report.notes[0]


def test_patient_days_frame_for_the_page(stores: RecordStore, patient: str) -> None:
    import_metrics(NURSE, stores, FakeBlobs(), patient, WIDE.encode(), "days.csv")
    frame = patient_days(NURSE, stores, patient, start="2024-03-02")
    assert frame["day"].min().date().isoformat() == "2024-03-02"
    assert {"day", "metric", "value"} <= set(frame.columns)
