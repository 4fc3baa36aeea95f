"""/v1/patients/{patient_id}/recordings: a consultation's audio becomes a queued scribe job (202)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import Response

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.idempotency import IdempotencyKey
from backend.api.params import PatientId
from backend.api.schemas import JobAccepted
from backend.api.uploads import UPLOAD_RESPONSES, accept_upload
from backend.services import scribe

router = APIRouter(prefix="/v1/patients/{patient_id}/recordings", tags=["recordings"], responses=ERRORS)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted, responses=UPLOAD_RESPONSES)
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
    return accept_upload(
        request,
        principal,
        idempotency_key,
        file,
        max_bytes=deps.limits.max_audio_bytes,
        limit_name="recordings (COPILOT_MAX_UPLOAD_MB)",
        default_name="recording",
        submit=lambda data, name: JobAccepted.of(
            scribe.submit_recording(deps, principal, patient_id, data, name, source="api")
        ),
    )
