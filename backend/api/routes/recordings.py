"""/v1/patients/{patient_id}/recordings: a consultation's audio becomes a queued scribe job (202)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import ErrorBody, JobAccepted
from backend.api.uploads import UPLOAD_ERRORS, read_limited
from backend.services import scribe

router = APIRouter(prefix="/v1/patients/{patient_id}/recordings", tags=["recordings"], responses=ERRORS)
_RESPONSES = {code: {**info, "model": ErrorBody} for code, info in UPLOAD_ERRORS.items()}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted, responses=_RESPONSES)
def upload_recording(
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="The recording: wav, mp3, m4a, ogg, opus, webm, flac")],
    app: AppDep,
    principal: PrincipalDep,
) -> JobAccepted:
    """Store the recording and queue its transcription and draft; poll ``status_url`` until ready_for_review."""
    deps = app.scribe_deps()
    data = read_limited(file, deps.limits.max_audio_bytes, "recordings (COPILOT_MAX_UPLOAD_MB)")
    job = scribe.submit_recording(deps, principal, patient_id, data, file.filename or "recording", source="api")
    return JobAccepted(job_id=job.job_id, status=job.status.value, status_url=f"/v1/jobs/{job.job_id}")
