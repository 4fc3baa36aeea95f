"""/v1/patients/{patient_id}/fhir: the patient's FHIR R4 Bundle (signed notes, medications, metrics)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import FhirBundle
from backend.services import export

router = APIRouter(prefix="/v1/patients/{patient_id}", tags=["export"], responses=ERRORS)
FHIR_JSON = "application/fhir+json"


@router.get(
    "/fhir",
    response_model=FhirBundle,
    responses={200: {"content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirBundle"}}}}},
)
def fhir_bundle(patient_id: PatientId, app: AppDep, principal: PrincipalDep) -> Any:
    """A ``collection`` Bundle, validated against the R4 structures (drafts are not exported).

    An unchanged record is answered from the process's cache: ``timestamp`` is when that bundle was validated.
    """
    bundle = export.export_bundle(app.stores, principal, patient_id, app.fhir_cache())
    return JSONResponse(bundle, media_type=FHIR_JSON)
