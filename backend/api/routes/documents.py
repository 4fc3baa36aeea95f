"""/v1/patients/{patient_id}/documents: upload a prescription -> read it (a job) -> confirm (or cancel) its list.

Reading (OCR) runs in the worker, not in the API's process: the upload answers 202 with the job; once the job
is ``ready_for_review`` the reading is fetched and confirmed by its id (the job's id). The reading is stored, so
any API process can serve the next call.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import Response

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS, ApiProblem
from backend.api.idempotency import IdempotencyKey, Outcome, json_content, run_once
from backend.api.params import PatientId, Timestamp
from backend.api.schemas import (
    DocumentAccepted,
    DocumentConfirm,
    HistoryOut,
    IdentityOut,
    ReadingOut,
    edited_medications,
    history_out,
    medication_out,
)
from backend.api.uploads import UPLOAD_RESPONSES, accept_upload
from backend.domain.document_identity import describe
from backend.services import digitize, document_jobs, history
from backend.services.access import Permission, require

router = APIRouter(prefix="/v1/patients/{patient_id}/documents", tags=["documents"], responses=ERRORS)
NOT_READY = "This document is still being read: poll status_url until it is ready_for_review, then fetch it again."


def _identity(reading: digitize.Reading) -> IdentityOut | None:
    check = reading.identity
    if check is None:
        return None
    summary = ""
    if check.status == "mismatch":
        summary = f"This document is for {describe(check.identity)} ({', '.join(check.disagreeing)} differ)."
    return IdentityOut(status=check.status, summary=summary)


def _reading_url(patient_id: str, reading_id: str) -> str:
    return f"/v1/patients/{patient_id}/documents/readings/{reading_id}"


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=DocumentAccepted, responses=UPLOAD_RESPONSES)
def read_document(
    request: Request,
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="A photo (JPEG, PNG, WebP) or a PDF of a prescription")],
    app: AppDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Queue the document for reading (stored, nothing saved to the history yet); poll ``status_url``.

    Send an ``Idempotency-Key`` so that a retried upload is read once.
    """
    deps = app.digitize_deps()

    def submit(data: bytes, name: str) -> DocumentAccepted:
        job = document_jobs.submit_document(deps, app.queue, principal, patient_id, data, name, source="api")
        return DocumentAccepted.of(job, reading_url=_reading_url(patient_id, job.job_id))

    return accept_upload(
        request,
        principal,
        idempotency_key,
        file,
        max_bytes=deps.limits.max_document_bytes,
        limit_name="documents (COPILOT_MAX_DOCUMENT_MB)",
        default_name="document",
        submit=submit,
    )


@router.get("/readings/{reading_id}", response_model=ReadingOut)
def get_reading(patient_id: PatientId, reading_id: str, app: AppDep, principal: PrincipalDep) -> ReadingOut:
    """What was read (for whoever uploaded it): 409 while still being read, 422 with the reason if reading failed."""
    reading = document_jobs.load_reading(app.digitize_deps(), principal, patient_id, reading_id)
    if reading is None:
        raise ApiProblem(409, "reading_not_ready", NOT_READY, {"Retry-After": "2"})
    return ReadingOut(
        reading_id=reading_id,
        patient_id=patient_id,
        filename=reading.filename,
        mime=reading.mime,
        pages=len(reading.pages),
        text=reading.text,
        medications=[medication_out(m) for m in reading.medications],
        unsupported=list(reading.unsupported),
        banner=reading.banner,
        identity=_identity(reading),
        expires_at=None,
        confirm_url=f"{_reading_url(patient_id, reading_id)}/confirm",
    )


@router.post("/readings/{reading_id}/confirm", status_code=status.HTTP_201_CREATED, response_model=HistoryOut)
def confirm_reading(
    request: Request,
    patient_id: PatientId,
    reading_id: str,
    body: DocumentConfirm,
    app: AppDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Save the document and its (edited) medication list to the patient's history.

    Send an ``Idempotency-Key`` so that a retried confirmation saves one history entry.
    """
    require(principal, Permission.DIGITIZE)  # before the lookup: a refused role learns nothing of readings
    deps = app.digitize_deps()

    def confirm() -> Outcome:
        reading = document_jobs.load_reading(deps, principal, patient_id, reading_id)
        if reading is None:
            raise ApiProblem(409, "reading_not_ready", NOT_READY, {"Retry-After": "2"})
        read = reading.medications
        meds = read if body.medications is None else edited_medications(body.medications, read, verbatim=True)
        entry = document_jobs.save_reading(
            deps,
            principal,
            patient_id,
            reading_id,
            meds,
            document_date=body.document_date,
            confirm_patient=body.confirm_patient,
        )
        saved = history_out(entry)
        return Outcome(saved, {"Location": f"/v1/patients/{patient_id}/documents/{saved.timestamp}"})

    return run_once(request, principal, idempotency_key, json_content(body), status.HTTP_201_CREATED, confirm)


@router.post("/readings/{reading_id}/cancel", status_code=status.HTTP_204_NO_CONTENT)
def cancel_reading(patient_id: PatientId, reading_id: str, app: AppDep, principal: PrincipalDep) -> None:
    """Drop a reading without saving (a document that names someone else is cancelled in the audit trail)."""
    document_jobs.discard_reading(app.digitize_deps(), principal, patient_id, reading_id)


@router.get("/{timestamp}", response_model=HistoryOut)
def get_document(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> HistoryOut:
    """A saved medication list / document entry of the patient's history."""
    return history_out(history.get_history_entry(app.stores, principal, patient_id, timestamp))
