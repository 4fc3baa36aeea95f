"""Direct uploads: ask for a form, send the recording straight to storage, follow the upload to its job.

``POST /v1/patients/{id}/recordings:upload-url`` returns a presigned POST (S3, or this API's own form route
when storage is local); the object's arrival starts the scribe job. ``GET /v1/uploads/{id}`` says where the
upload is. ``POST /v1/uploads:form`` is the local stand-in for S3's form endpoint: the signed policy in the
form is its authority, as it is for S3, so it takes no bearer token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS, error_response
from backend.api.params import PatientId
from backend.api.schemas import JobOut, Problem, job_out
from backend.domain.upload_policy import REQUESTER_FIELD, SIGNATURE_FIELD, UploadRefused
from backend.services import uploads

router = APIRouter(tags=["uploads"], responses=ERRORS)
UploadId = Annotated[str, Path(max_length=40, description="UPL_…, as the upload URL request returned it")]
_CHUNK = 1024 * 1024


class UploadUrl(BaseModel):
    upload_id: str
    url: str = Field(
        description="POST a multipart form here: every field of `fields`, then `Content-Type`, then `file`."
    )
    fields: dict[str, str]
    content_type_prefix: str = Field(
        default="audio/", description="The form's Content-Type field must start with this."
    )
    max_bytes: int
    expires_at: int = Field(description="Epoch seconds after which the form is refused.")
    status_url: str


class UploadOut(BaseModel):
    upload_id: str
    status: str = Field(description="awaiting_upload | expired | refused | accepted (then see `job`)")
    error: str | None = None
    job: JobOut | None = None


@router.post(
    "/v1/patients/{patient_id}/recordings:upload-url", status_code=status.HTTP_201_CREATED, response_model=UploadUrl
)
def request_upload_url(patient_id: PatientId, request: Request, app: AppDep, principal: PrincipalDep) -> UploadUrl:
    """A presigned form for one recording (audio only, size-limited, valid for minutes); its arrival queues the job."""
    form = uploads.request_upload(app.upload_deps(), principal, patient_id)
    url = str(request.base_url).rstrip("/") + form.url if form.url.startswith("/") else form.url
    return UploadUrl(
        upload_id=form.upload_id,
        url=url,
        fields=form.fields,
        max_bytes=form.max_bytes,
        expires_at=form.expires_at,
        status_url=f"/v1/uploads/{form.upload_id}",
    )


@router.get("/v1/uploads/{upload_id}", response_model=UploadOut)
def read_upload(upload_id: UploadId, app: AppDep, principal: PrincipalDep) -> UploadOut:
    """Where a direct upload is: waiting for the file, expired, refused (with why), or accepted with its job."""
    state = uploads.upload_state(app.upload_deps(), principal, upload_id)
    return UploadOut(
        upload_id=state.upload_id,
        status=state.status,
        error=state.error,
        job=job_out(state.job) if state.job is not None else None,
    )


@router.post(
    "/v1/uploads:form",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"model": Problem, "description": "The form breaks its signed policy (or expired)"}},
)
async def local_upload_form(
    app: AppDep,
    key: Annotated[str, Form(max_length=300)],
    policy: Annotated[str, Form(max_length=8000)],
    signature: Annotated[str, Form(alias=SIGNATURE_FIELD, max_length=128)],
    requested_by: Annotated[str, Form(alias=REQUESTER_FIELD, max_length=200)],
    file: Annotated[UploadFile, File(description="The recording (the form's last field)")],
    content_type: Annotated[str, Form(alias="Content-Type", max_length=200)] = "",
) -> Response:
    """The local stand-in for the bucket's form endpoint (only when storage is local): the fields as the
    upload URL request returned them, then `Content-Type` (audio/...) and `file`."""
    deps = app.upload_deps()
    fields = {"key": key, "policy": policy, SIGNATURE_FIELD: signature, REQUESTER_FIELD: requested_by}
    data = await _read_at_most(file, deps.scribe.limits.max_audio_bytes + 1)
    try:
        await run_in_threadpool(uploads.accept_local_form, deps, fields, content_type or file.content_type or "", data)
    except UploadRefused as e:
        return error_response(403, e.message)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _read_at_most(file: UploadFile, limit: int) -> bytes:
    # One byte past the limit is enough to refuse it; the rest is never held.
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := await file.read(min(_CHUNK, limit - size))):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)
