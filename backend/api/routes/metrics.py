"""/v1/patients/{patient_id}/metrics: import a wearable export (a job), read the daily values.

Parsing an export takes seconds, so it runs in the worker, not in the API's process: the upload answers 202
with the job; ``GET .../metrics/imports/{job_id}`` gives its status and, once imported, the import report
(``/v1/jobs/{job_id}`` works too, as for recordings and documents).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status
from pydantic import BaseModel, Field

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import JobAccepted, JobState, MetricDayOut, MetricDays, MetricsImportOut
from backend.api.uploads import UPLOAD_RESPONSES, read_limited
from backend.domain.errors import NotFound
from backend.domain.metrics import ImportReport
from backend.domain.models import JobStatus
from backend.services import metrics, metrics_jobs

router = APIRouter(prefix="/v1/patients/{patient_id}/metrics", tags=["metrics"], responses=ERRORS)


class MetricsImportAccepted(JobAccepted):
    report_url: str = Field(description="GET it for the import's status and, once ready_for_review, its report.")


class MetricsImportJobOut(BaseModel):
    job_id: str
    status: JobState = Field(description="queued -> transcribing (importing) -> ready_for_review, or failed")
    error: str | None = Field(description="Why the import failed (the file is kept: POST /v1/jobs/{job_id}/retry)")
    report: MetricsImportOut | None = Field(description="What was imported, once the status is ready_for_review")


def _report_url(patient_id: str, job_id: str) -> str:
    return f"/v1/patients/{patient_id}/metrics/imports/{job_id}"


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=MetricsImportAccepted, responses=UPLOAD_RESPONSES)
def import_metrics(
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="CSV (long or wide), Ultrahuman JSON, Apple Health XML or FHIR")],
    app: AppDep,
    principal: PrincipalDep,
) -> MetricsImportAccepted:
    """Queue a health-data file for import (the worker imports it); poll ``report_url`` for its report.

    A file that is empty, too large or of a type we do not import is refused at once (nothing stored); one
    that fails while being imported ends the job as ``failed`` with the reason. Importing the same file again
    changes nothing (its report says ``already_imported``).
    """
    data = read_limited(file, app.limits.max_import_bytes, "imports (COPILOT_MAX_UPLOAD_MB)")
    job = metrics_jobs.submit_import(
        app.metrics_job_deps(), principal, patient_id, data, file.filename or "", source="api"
    )
    return MetricsImportAccepted.of(job, report_url=_report_url(patient_id, job.job_id))


@router.get("/imports/{job_id}", response_model=MetricsImportJobOut)
def import_status(patient_id: PatientId, job_id: str, app: AppDep, principal: PrincipalDep) -> MetricsImportJobOut:
    """The caller's own import: its status, the reason it failed, or its report once imported."""
    deps = app.metrics_job_deps()
    job = metrics_jobs.import_job(deps, principal, job_id)
    if job.patient_id != patient_id:
        raise NotFound(metrics_jobs.GONE)
    report = metrics_jobs.import_report(deps, principal, job_id) if job.status is JobStatus.READY else None
    return MetricsImportJobOut(
        job_id=job.job_id,
        status=job.status.value,
        error=job.error,
        report=None if report is None else _report_out(report),
    )


def _report_out(report: ImportReport) -> MetricsImportOut:
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
