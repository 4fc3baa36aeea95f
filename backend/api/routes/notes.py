"""/v1/patients/{patient_id}/notes: read, edit, sign and amend notes (the review page's services)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, status

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
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


@router.get("/{timestamp}", response_model=NoteOut)
def get_note(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> NoteOut:
    return note_out(notes.get_note(app.stores, principal, patient_id, timestamp))


@router.put("/{timestamp}", response_model=NoteOut)
def edit_note(
    patient_id: PatientId, timestamp: Timestamp, body: NoteEdit, app: AppDep, principal: PrincipalDep
) -> NoteOut:
    """Save edits of a draft (sections, and the medication list if sent); 409 if ``version`` is stale or signed."""
    require(principal, Permission.EDIT_NOTES)  # before the read, so a refused edit leaves no trace
    note = _as_read(notes.get_note(app.stores, principal, patient_id, timestamp), body.version)
    meds = None if body.medications is None else edited_medications(body.medications, note.medications, verbatim=False)
    return note_out(notes.save_draft(app.stores, principal, note, _sections(body.sections), meds))


@router.post("/{timestamp}/sign", response_model=NoteOut)
def sign_note(
    patient_id: PatientId, timestamp: Timestamp, body: NoteSign, app: AppDep, principal: PrincipalDep
) -> NoteOut:
    """Sign the draft at ``version`` (with last edits, if sent, in the same write). Signed notes never change."""
    require(principal, Permission.SIGN_NOTES)
    note = _as_read(notes.get_note(app.stores, principal, patient_id, timestamp), body.version)
    if body.sections is None and body.medications is None:
        return note_out(notes.sign_note(app.stores, principal, note))
    sections = _sections(body.sections) if body.sections is not None else dict(note.sections)
    meds = None if body.medications is None else edited_medications(body.medications, note.medications, verbatim=False)
    return note_out(notes.sign_draft(app.stores, principal, note, sections, meds))


@router.post("/{timestamp}/amend", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def amend_note(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> NoteOut:
    """Start an amendment of a signed note: a new draft (its ``amends`` is this note); the original stays."""
    require(principal, Permission.EDIT_NOTES)
    return note_out(
        notes.amend_note(app.stores, principal, notes.get_note(app.stores, principal, patient_id, timestamp))
    )


@router.get("/{timestamp}/versions", response_model=list[NoteOut])
def note_versions(patient_id: PatientId, timestamp: Timestamp, app: AppDep, principal: PrincipalDep) -> list[NoteOut]:
    """The note and every earlier version it amends, newest first."""
    note = notes.get_note(app.stores, principal, patient_id, timestamp)
    return [note_out(n) for n in notes.version_chain(app.stores, principal, note)]
