"""/v1/patients/{patient_id}/documents: upload a prescription -> read it -> confirm (or cancel) its medications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId, Timestamp
from backend.api.readings import ReadingCache
from backend.api.schemas import (
    DocumentConfirm,
    ErrorBody,
    HistoryOut,
    IdentityOut,
    ReadingOut,
    edited_medications,
    history_out,
    medication_out,
)
from backend.api.uploads import UPLOAD_ERRORS, read_limited
from backend.domain.document_identity import describe
from backend.services import digitize, history
from backend.services.access import Permission, require

router = APIRouter(prefix="/v1/patients/{patient_id}/documents", tags=["documents"], responses=ERRORS)
_RESPONSES = {code: {**info, "model": ErrorBody} for code, info in UPLOAD_ERRORS.items()}


def _cache(request: Request) -> ReadingCache:
    cache: ReadingCache = request.app.state.readings
    return cache


def _identity(reading: digitize.Reading) -> IdentityOut | None:
    check = reading.identity
    if check is None:
        return None
    summary = ""
    if check.status == "mismatch":
        summary = f"This document is for {describe(check.identity)} ({', '.join(check.disagreeing)} differ)."
    return IdentityOut(status=check.status, summary=summary)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReadingOut, responses=_RESPONSES)
def read_document(
    patient_id: PatientId,
    file: Annotated[UploadFile, File(description="A photo (JPEG, PNG, WebP) or a PDF of a prescription")],
    request: Request,
    app: AppDep,
    principal: PrincipalDep,
) -> ReadingOut:
    """Read the document's medications (nothing is stored yet); confirm them with ``confirm_url`` in 30 minutes."""
    deps = app.digitize_deps()
    data = read_limited(file, deps.max_bytes, "documents (COPILOT_MAX_DOCUMENT_MB)")
    reading = digitize.read_document(deps, principal, patient_id, data, file.filename or "document")
    reading_id, expires = _cache(request).put(reading, data, principal.username, patient_id)
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
        expires_at=int(expires * 1000),
        confirm_url=f"/v1/patients/{patient_id}/documents/readings/{reading_id}/confirm",
    )


@router.post("/readings/{reading_id}/confirm", status_code=status.HTTP_201_CREATED, response_model=HistoryOut)
def confirm_reading(
    patient_id: PatientId,
    reading_id: str,
    body: DocumentConfirm,
    request: Request,
    app: AppDep,
    principal: PrincipalDep,
) -> HistoryOut:
    """Save the document and its (edited) medication list to the patient's history."""
    require(principal, Permission.DIGITIZE)  # before the lookup: a refused role learns nothing of readings
    cache = _cache(request)
    held = cache.take(reading_id, principal.username, patient_id)
    read = held.reading.medications
    meds = read if body.medications is None else edited_medications(body.medications, read, verbatim=True)
    entry = digitize.save_digitized(
        app.digitize_deps(),
        principal,
        patient_id,
        held.data,
        held.reading,
        meds,
        document_date=body.document_date,
        confirm_patient=body.confirm_patient,
    )
    cache.drop(reading_id)
    return history_out(entry)


@router.post("/readings/{reading_id}/cancel", status_code=status.HTTP_204_NO_CONTENT)
def cancel_reading(
    patient_id: PatientId, reading_id: str, request: Request, app: AppDep, principal: PrincipalDep
) -> None:
    """Drop a reading without saving (a document that names someone else is cancelled in the audit trail)."""
    require(principal, Permission.DIGITIZE)
    cache = _cache(request)
    held = cache.take(reading_id, principal.username, patient_id)
    if held.reading.identity is not None and held.reading.identity.status == "mismatch":
        digitize.cancel_mismatch(app.digitize_deps(), principal, patient_id, held.reading)
    cache.drop(reading_id)


@router.get("/{timestamp}", response_model=HistoryOut)
def get_document(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> HistoryOut:
    """A saved medication list / document entry of the patient's history."""
    return history_out(history.get_history_entry(app.stores, principal, patient_id, timestamp))
