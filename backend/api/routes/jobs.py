"""/v1/jobs and a patient's jobs: the scribe pipeline's progress, and retrying a failed job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import JobOut, job_out
from backend.services import scribe
from backend.services.job_status import get_job

router = APIRouter(tags=["jobs"], responses=ERRORS)


@router.get("/v1/jobs/{job_id}", response_model=JobOut)
def read_job(job_id: str, app: AppDep, principal: PrincipalDep) -> JobOut:
    """queued -> transcribing -> drafting -> ready_for_review (with ``note``) or failed (with ``error``)."""
    return job_out(get_job(app.stores, principal, job_id))


@router.post("/v1/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: str, app: AppDep, principal: PrincipalDep) -> JobOut:
    """Queue a failed job again (its audio is still stored)."""
    return job_out(scribe.retry_job(app.scribe_deps(), principal, job_id))


@router.get("/v1/patients/{patient_id}/jobs", response_model=list[JobOut])
def patient_jobs(
    patient_id: PatientId,
    app: AppDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many of the most recent jobs")] = 50,
) -> list[JobOut]:
    """The patient's recent recording jobs (the last 50 at most), newest first; older ones are on the timeline."""
    return [job_out(j) for j in scribe.list_jobs(app.scribe_deps(), principal, patient_id)[:limit]]
