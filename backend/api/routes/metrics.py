"""/v1/patients/{patient_id}/metrics: import a wearable export, read the daily values."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import ErrorBody, MetricDayOut, MetricDays, MetricsImportOut
from backend.api.uploads import UPLOAD_ERRORS, read_limited
from backend.services import metrics

router = APIRouter(prefix="/v1/patients/{patient_id}/metrics", tags=["metrics"], responses=ERRORS)
_RESPONSES = {code: {**info, "model": ErrorBody} for code, info in UPLOAD_ERRORS.items()}


@router.post("", response_model=MetricsImportOut, responses=_RESPONSES)
def import_metrics(
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="CSV (long or wide), Ultrahuman JSON, Apple Health XML or FHIR")],
    app: AppDep,
    principal: PrincipalDep,
) -> MetricsImportOut:
    """Import a health-data file as daily values (idempotent: importing it again changes nothing)."""
    data = read_limited(file, app.limits.max_import_bytes, "imports (COPILOT_MAX_UPLOAD_MB)")
    report = metrics.import_metrics(principal, app.stores, app.blobs, patient_id, data, file.filename or "")
    return MetricsImportOut(
        format=report.format,
        patient_ids=list(report.patient_ids),
        imported_samples=report.imported_samples,
        duplicates=report.duplicates,
        days_written=report.days_written,
        days_unchanged=report.days_unchanged,
        days_by_metric=dict(report.days_by_metric),
        first_day=report.first_day,
        last_day=report.last_day,
        rejected_total=report.rejected_total,
        unknown_metrics=list(report.unknown_metrics),
        notes=list(report.notes),
        already_imported=report.already_imported,
    )


@router.get("", response_model=MetricDays)
def metric_days(
    patient_id: PatientId,
    app: AppDep,
    principal: PrincipalDep,
    metric: Annotated[str | None, Query(max_length=40, description="e.g. resting_hr, hrv, spo2")] = None,
    start: Annotated[date | None, Query(description="first day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="last day (inclusive)")] = None,
) -> MetricDays:
    """The patient's daily values (optionally of one metric), oldest first."""
    frame = metrics.patient_days(
        principal, app.stores, patient_id, start.isoformat() if start else None, end.isoformat() if end else None
    )
    if metric is not None:
        frame = frame[frame["metric"] == metric]
    return MetricDays(
        items=[
            MetricDayOut(metric=str(m), day=d.date().isoformat(), value=float(v), unit=str(u))
            for d, m, v, u in zip(frame["day"], frame["metric"], frame["value"], frame["unit"], strict=True)
        ]
    )
