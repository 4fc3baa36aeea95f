"""/v1/patients/{patient_id}/timeline and its active medications (the timeline page's services)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import MAX_MS, PatientId
from backend.api.schemas import ActiveMedicationOut, TimelineItemOut, TimelineOut, active_medication_out
from backend.services import timeline

router = APIRouter(prefix="/v1/patients/{patient_id}", tags=["timeline"], responses=ERRORS)
Kind = Literal["note", "medications", "document", "anomaly"]


@router.get("/timeline", response_model=TimelineOut)
def read_timeline(
    patient_id: PatientId,
    app: AppDep,
    principal: PrincipalDep,
    kind: Annotated[list[Kind] | None, Query(description="Only these kinds (repeat the parameter)")] = None,
    start_ms: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    end_ms: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TimelineOut:
    """Notes, medication lists, documents and anomaly episodes, newest first, page by page."""
    page = timeline.build_timeline(
        app.stores,
        principal,
        patient_id,
        set(kind) if kind else None,
        start_ms,
        end_ms,
        cursor,
        limit,
        app.episodes().episodes,
        app.settings.clinic_tz(),  # days written in titles are the clinic's; timestamps stay epoch ms (UTC)
    )
    return TimelineOut(
        items=[
            TimelineItemOut(
                kind=i.kind, timestamp=i.timestamp, title=i.title, summary=i.summary, status=i.status, ref=dict(i.ref)
            )
            for i in page.items
        ],
        next_cursor=page.next_cursor,
        total=page.total,
    )


@router.get("/medications", response_model=list[ActiveMedicationOut])
def active_medications(patient_id: PatientId, app: AppDep, principal: PrincipalDep) -> list[ActiveMedicationOut]:
    """The reconciled active-medication list (two drugs of one class together are flagged)."""
    return [
        active_medication_out(m)
        for m in timeline.active_medications(app.stores, principal, patient_id, app.settings.clinic_tz())
    ]
