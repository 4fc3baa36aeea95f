"""/v1/patients/{patient_id}/recordings: a consultation's audio becomes a queued scribe job (202)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import Response

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.idempotency import IdempotencyKey, Outcome, run_once, upload_content
from backend.api.params import PatientId
from backend.api.schemas import JobAccepted, Problem
from backend.api.uploads import UPLOAD_ERRORS, read_limited
from backend.services import scribe

router = APIRouter(prefix="/v1/patients/{patient_id}/recordings", tags=["recordings"], responses=ERRORS)
_RESPONSES = {code: {**info, "model": Problem} for code, info in UPLOAD_ERRORS.items()}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted, responses=_RESPONSES)
def upload_recording(
    request: Request,
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="The recording: wav, mp3, m4a, ogg, opus, webm, flac")],
    app: AppDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Store the recording and queue its transcription and draft; poll ``status_url`` until ready_for_review.

    Send an ``Idempotency-Key`` so that a retried upload queues one job, not two.
    """
    deps = app.scribe_deps()
    data = read_limited(file, deps.limits.max_audio_bytes, "recordings (COPILOT_MAX_UPLOAD_MB)")
    name = file.filename or "recording"

    def submit() -> Outcome:
        job = scribe.submit_recording(deps, principal, patient_id, data, name, source="api")
        url = f"/v1/jobs/{job.job_id}"
        return Outcome(JobAccepted(job_id=job.job_id, status=job.status.value, status_url=url), {"Location": url})

    return run_once(request, principal, idempotency_key, upload_content(name, data), status.HTTP_202_ACCEPTED, submit)
