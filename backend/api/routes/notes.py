"""/v1/patients/{patient_id}/notes: read, edit, sign and amend notes (the review page's services)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.etags import PRECONDITION_RESPONSES, IfMatch, check_if_match, etag
from backend.api.idempotency import IdempotencyKey, Outcome, json_content, run_once
from backend.api.params import PatientId, Timestamp
from backend.api.schemas import (
    NoteEdit,
    NoteList,
    NoteOut,
    NoteSign,
    SoapSection,
    edited_medications,
    note_out,
    note_summary,
)
from backend.domain.errors import ConcurrentUpdate, SignedNoteImmutable
from backend.domain.models import Note, NoteStatus
from backend.services import notes
from backend.services.access import Permission, require

router = APIRouter(prefix="/v1/patients/{patient_id}/notes", tags=["notes"], responses=ERRORS)


def _as_read(stored: Note, version: int) -> Note:
    """The draft as the client read it: a write against it fails (409) if it changed since or is signed."""
    if stored.status is NoteStatus.SIGNED:
        raise SignedNoteImmutable()
    if stored.version != version:
        raise ConcurrentUpdate()
    return stored


def _sections(sent: Mapping[SoapSection, str]) -> dict[str, str]:
    return {str(k): v for k, v in sent.items()}


@router.get("", response_model=NoteList)
def list_notes(
    patient_id: PatientId,
    app: AppDep,
    principal: PrincipalDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> NoteList:
    """The patient's notes, newest first, page by page (``next_cursor``)."""
    page = notes.list_notes(app.stores, principal, patient_id, cursor, limit)
    return NoteList(items=[note_summary(n) for n in page.items], next_cursor=page.next_cursor)


def _outcome(note: Note) -> Outcome:
    return Outcome(note_out(note), {"ETag": etag(note.version)})


@router.get("/{timestamp}", response_model=NoteOut)
def get_note(
    patient_id: PatientId, timestamp: Timestamp, response: Response, app: AppDep, principal: PrincipalDep
) -> NoteOut:
    """The note; its ``ETag`` header is its version, for ``If-Match`` on the next write."""
    note = notes.get_note(app.stores, principal, patient_id, timestamp)
    response.headers["ETag"] = etag(note.version)
    return note_out(note)


@router.put("/{timestamp}", response_model=NoteOut, responses=PRECONDITION_RESPONSES)
def edit_note(
    patient_id: PatientId,
    timestamp: Timestamp,
    body: NoteEdit,
    response: Response,
    app: AppDep,
    principal: PrincipalDep,
    if_match: IfMatch = None,
) -> NoteOut:
    """Save edits of a draft (sections, and the medication list if sent); 409 if ``version`` is stale or signed,
    412 if ``If-Match`` is stale."""
    require(principal, Permission.EDIT_NOTES)  # before the read, so a refused edit leaves no trace
    stored = notes.get_note(app.stores, principal, patient_id, timestamp)
    check_if_match(if_match, stored.version)
    note = _as_read(stored, body.version)
    meds = None if body.medications is None else edited_medications(body.medications, note.medications, verbatim=False)
    saved = notes.save_draft(app.stores, principal, note, _sections(body.sections), meds)
    response.headers["ETag"] = etag(saved.version)
    return note_out(saved)


@router.post("/{timestamp}/sign", response_model=NoteOut, responses=PRECONDITION_RESPONSES)
def sign_note(
    request: Request,
    patient_id: PatientId,
    timestamp: Timestamp,
    body: NoteSign,
    app: AppDep,
    principal: PrincipalDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Sign the draft at ``version`` (with last edits, if sent, in the same write). Signed notes never change.

    A retry with the same ``Idempotency-Key`` gets the signed note instead of 409 note_signed.
    """
    require(principal, Permission.SIGN_NOTES)

    def sign() -> Outcome:
        stored = notes.get_note(app.stores, principal, patient_id, timestamp)
        check_if_match(if_match, stored.version)
        note = _as_read(stored, body.version)
        if body.sections is None and body.medications is None:
            return _outcome(notes.sign_note(app.stores, principal, note))
        sections = _sections(body.sections) if body.sections is not None else dict(note.sections)
        meds = (
            None if body.medications is None else edited_medications(body.medications, note.medications, verbatim=False)
        )
        return _outcome(notes.sign_draft(app.stores, principal, note, sections, meds))

    return run_once(request, principal, idempotency_key, json_content(body), status.HTTP_200_OK, sign)


@router.post("/{timestamp}/amend", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def amend_note(
    request: Request,
    patient_id: PatientId,
    timestamp: Timestamp,
    app: AppDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Start an amendment of a signed note: a new draft (its ``amends`` is this note); the original stays.

    A retry with the same ``Idempotency-Key`` gets the same amendment, not a second one.
    """
    require(principal, Permission.EDIT_NOTES)

    def amend() -> Outcome:
        amended = notes.amend_note(app.stores, principal, notes.get_note(app.stores, principal, patient_id, timestamp))
        outcome = _outcome(amended)
        location = f"/v1/patients/{patient_id}/notes/{amended.timestamp}"
        return Outcome(outcome.body, {**(outcome.headers or {}), "Location": location})

    return run_once(request, principal, idempotency_key, b"", status.HTTP_201_CREATED, amend)


@router.get("/{timestamp}/versions", response_model=list[NoteOut])
def note_versions(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> list[NoteOut]:
    """The note and every earlier version it amends, newest first."""
    note = notes.get_note(app.stores, principal, patient_id, timestamp)
    return [note_out(n) for n in notes.version_chain(app.stores, principal, note)]
