"""/v1/patients/{patient_id}/ask: a question answered from this patient's records, with citations."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.params import PatientId
from backend.api.schemas import AnswerOut, AskIn, CitationOut
from backend.services import ask

router = APIRouter(prefix="/v1/patients/{patient_id}", tags=["ask"], responses=ERRORS)


@router.post("/ask", response_model=AnswerOut)
def ask_question(patient_id: PatientId, body: AskIn, app: AppDep, principal: PrincipalDep) -> AnswerOut:
    """Answer from the patient's notes, medication lists and anomalies only; each citation points at its record."""
    answer = ask.ask(
        app.stores,
        principal,
        patient_id,
        body.question,
        cache=app.ask_cache(),
        metric_passages=app.episodes().metric_passages,
        llm=app.answerer(),
    )
    return AnswerOut(
        answer=answer.text,
        mode=answer.mode,
        note=answer.note,
        citations=[
            CitationOut(passage_id=c.passage_id, kind=c.kind, ref=dict(c.ref), label=c.label, snippet=c.snippet)
            for c in answer.citations
        ],
    )
