"""/v1/patients: register, find, read and edit patients (the patients page's services)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.idempotency import IdempotencyKey, Outcome, json_content, run_once
from backend.api.params import PatientId
from backend.api.schemas import PatientCreated, PatientIn, PatientList, PatientOut, PatientUpdate, patient_out
from backend.services import patients

router = APIRouter(prefix="/v1/patients", tags=["patients"], responses=ERRORS)


def _input(body: PatientIn) -> patients.PatientInput:
    return patients.PatientInput(
        name=body.name, phone=body.phone, dob=body.dob, sex=body.sex, external_id=body.external_id
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PatientCreated)
def register_patient(
    request: Request,
    body: PatientIn,
    app: AppDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Register a patient. A phone number another patient has is allowed and listed in ``same_phone``.

    Send an ``Idempotency-Key`` so that a retry after a lost response does not register the patient twice.
    """

    def register() -> Outcome:
        reg = patients.register_patient(app.stores, principal, _input(body), app.settings.default_region)
        created = PatientCreated(
            **patient_out(reg.patient).model_dump(), same_phone=[p.patient_id for p in reg.same_phone]
        )
        return Outcome(created, {"Location": f"/v1/patients/{created.patient_id}"})

    return run_once(request, principal, idempotency_key, json_content(body), status.HTTP_201_CREATED, register)


@router.get("", response_model=PatientList)
def find_patients(
    app: AppDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=200, description="Patient ID, phone number or name words")] = "",
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> PatientList:
    """Search by ``q`` (one page of matches), or without ``q`` list every patient newest first, page by page."""
    if q.strip():
        found = patients.search_patients(app.stores, principal, q, app.settings.default_region, limit)
        return PatientList(items=[patient_out(p) for p in found])
    page = patients.list_patients(app.stores, principal, cursor, limit)
    return PatientList(items=[patient_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/{patient_id}", response_model=PatientOut)
def get_patient(patient_id: PatientId, app: AppDep, principal: PrincipalDep) -> PatientOut:
    return patient_out(patients.get_patient(app.stores, principal, patient_id))


@router.put("/{patient_id}", response_model=PatientOut)
def update_patient(patient_id: PatientId, body: PatientUpdate, app: AppDep, principal: PrincipalDep) -> PatientOut:
    """Replace the demographics; 409 when ``version`` is not the stored one."""
    saved = patients.update_patient(
        app.stores, principal, patient_id, body.version, _input(body), app.settings.default_region
    )
    return patient_out(saved)
