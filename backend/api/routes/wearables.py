"""/v1/patients/{patient_id}/wearable: link a patient's Ultrahuman account for the daily sync (or unlink it)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.services import patients

router = APIRouter(prefix="/v1/patients", tags=["patients"], responses=ERRORS)


class WearableLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ultrahuman_email: str | None = Field(
        max_length=254,
        description="The e-mail the patient signs in to Ultrahuman with (they must also enter the clinic's partner "
        "code in the app); null or empty unlinks.",
        examples=["patient@example.com"],
    )
    version: int = Field(ge=1, description="The patient's version you read; a stale one gives 409.")


class WearableLinkOut(BaseModel):
    patient_id: str
    ultrahuman_email: str | None
    version: int


@router.put("/{patient_id}/wearable", response_model=WearableLinkOut)
def link_wearable(patient_id: PatientId, body: WearableLinkIn, app: AppDep, principal: PrincipalDep) -> WearableLinkOut:
    """Link (or unlink) the patient's Ultrahuman account; its data is then synced once a day. Audited."""
    saved = patients.link_wearable(app.stores, principal, patient_id, body.version, body.ultrahuman_email)
    return WearableLinkOut(patient_id=saved.patient_id, ultrahuman_email=saved.ultrahuman_email, version=saved.version)
