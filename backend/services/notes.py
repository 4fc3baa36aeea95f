"""Reviewing, editing, signing and amending notes. Signed notes never change; an amendment is a new version."""

from __future__ import annotations

from typing import Any

from backend.domain import icd10
from backend.domain.errors import ValidationFailed
from backend.domain.models import Medication, Note, NoteStatus, Page, now_ms
from backend.domain.note_content import SOAP_SECTIONS, CodeChoice
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require

SECTIONS = SOAP_SECTIONS  # the sections a clinician edits and signs
MAX_SECTION = 20_000


def get_note(stores: RecordStore, principal: Principal, patient_id: str, timestamp: int) -> Note:
    require(principal, Permission.READ_PATIENTS)
    note = stores.notes.get(patient_id, timestamp)
    record(stores.audit, principal, "note.read", patient_id, str(timestamp))
    return note


def list_notes(
    stores: RecordStore, principal: Principal, patient_id: str, cursor: str | None = None, limit: int = 50
) -> Page[Note]:
    require(principal, Permission.READ_PATIENTS)
    page = stores.notes.list_for_patient(patient_id, cursor, limit)
    record(stores.audit, principal, "note.list", patient_id)
    return page


def save_draft(
    stores: RecordStore,
    principal: Principal,
    note: Note,
    sections: dict[str, str],
    medications: list[Medication] | None = None,
) -> Note:
    """Store the clinician's edits of a draft (optimistic: fails if someone else saved first)."""
    require(principal, Permission.EDIT_NOTES)
    return _store(stores, principal, note, _edited(principal, note, sections, medications), "note.edit")


def sign_note(stores: RecordStore, principal: Principal, note: Note) -> Note:
    """Sign a draft: from now on it is immutable."""
    require(principal, Permission.SIGN_NOTES)
    return _store(stores, principal, note, _signed(principal, note), "note.sign")


def sign_draft(
    stores: RecordStore,
    principal: Principal,
    note: Note,
    sections: dict[str, str],
    medications: list[Medication] | None = None,
) -> Note:
    """Save the clinician's last edits and sign, in one write against the version the clinician reviewed.

    Either both happen or neither: a concurrent save makes the whole call fail (ConcurrentUpdate), so a note
    is never signed with text other than what was on the signer's screen.
    """
    # The signing permission first: a role that may do neither is refused for signing, what it asked for.
    require(principal, Permission.SIGN_NOTES)
    require(principal, Permission.EDIT_NOTES)
    signed = _signed(principal, _edited(principal, note, sections, medications))
    return _store(stores, principal, note, signed, "note.edit", "note.sign")


def choose_diagnosis_code(stores: RecordStore, principal: Principal, note: Note, index: int, code: str | None) -> Note:
    """The clinician's ICD-10 code for diagnosis ``index`` of a draft: a code (the suggestion confirmed or another
    one picked), or None when no code fits. Stored at once, against the version on the clinician's screen.

    Raises:
        PermissionDenied: the role may not edit drafts.
        ValidationFailed: the note is signed, there is no such diagnosis, or ``code`` is not a WHO ICD-10 code.
        ConcurrentUpdate: the note was saved by someone else since ``note.version``.
    """
    require(principal, Permission.EDIT_NOTES)
    _draft_only(note)
    if not 0 <= index < len(note.diagnoses):
        raise ValidationFailed("The note has no such diagnosis; reload the note.")
    chosen = None if code is None else icd10.clean_code(code)
    if code is not None and chosen is None:
        raise ValidationFailed(
            f"“{code.strip()[:20]}” is not a WHO ICD-10 code; search by words or pick from the list."
        )
    diagnoses = list(note.diagnoses)
    choice = CodeChoice(code=chosen, by=principal.username, at=now_ms())
    diagnoses[index] = diagnoses[index].model_copy(update={"icd10": choice})
    saved = stores.notes.update(note.model_copy(update={"diagnoses": diagnoses}), note.version)
    # The code says which condition the patient has: the audit line names the diagnosis's place only.
    record(stores.audit, principal, "note.code_diagnosis", note.patient_id, f"{note.timestamp}: diagnosis {index}")
    return saved


def _store(stores: RecordStore, principal: Principal, note: Note, changed: Note, *actions: str) -> Note:
    """Write ``changed`` against the version the clinician had (``note``'s), and audit each of ``actions``.

    Raises:
        ConcurrentUpdate: someone saved the note since ``note.version``; nothing is written or audited.
    """
    saved = stores.notes.update(changed, note.version)
    for action in actions:
        record(stores.audit, principal, action, note.patient_id, str(note.timestamp))
    return saved


def _draft_only(note: Note) -> None:
    if note.status is NoteStatus.SIGNED:
        raise ValidationFailed("This note is signed and cannot change. Create an amendment instead.")


def _edited(
    principal: Principal,
    note: Note,
    sections: dict[str, str],
    medications: list[Medication] | None,
) -> Note:
    """The draft with the edits applied (not stored), or ValidationFailed."""
    _draft_only(note)
    clean = {k: (sections.get(k) or "").strip() for k in SECTIONS}
    too_long = [k for k, v in clean.items() if len(v) > MAX_SECTION]
    if too_long:
        raise ValidationFailed(f"The {too_long[0]} section is over {MAX_SECTION:,} characters; shorten it.")
    update: dict[str, Any] = {"sections": clean, "edited_by": principal.username}
    if medications is not None:
        update["medications"] = medications
    return note.model_copy(update=update)


def _signed(principal: Principal, note: Note) -> Note:
    """The draft as signed by ``principal`` (not stored), or ValidationFailed."""
    if note.status is NoteStatus.SIGNED:
        raise ValidationFailed("This note is already signed.")
    if not any((note.sections.get(k) or "").strip() for k in SECTIONS):
        raise ValidationFailed("The note is empty; write at least one section before signing.")
    return note.model_copy(update={"status": NoteStatus.SIGNED, "signer": principal.username, "signed_at": now_ms()})


def amend_note(stores: RecordStore, principal: Principal, note: Note) -> Note:
    """Start an amendment of a signed note: a new draft that points at the original, which stays as it was."""
    require(principal, Permission.EDIT_NOTES)
    if note.status is not NoteStatus.SIGNED:
        raise ValidationFailed("Only signed notes are amended; edit the draft directly.")
    draft = note.model_copy(
        update={
            "status": NoteStatus.DRAFT,
            "timestamp": now_ms(),
            "amends": note.timestamp,
            "signer": None,
            "signed_at": None,
            "author": principal.username,
            "version": 1,
            "updated_at": now_ms(),
        },
        deep=True,
    )
    stored = stores.notes.add(draft)
    record(stores.audit, principal, "note.amend", note.patient_id, f"{note.timestamp} -> {stored.timestamp}")
    return stored


def version_chain(stores: RecordStore, principal: Principal, note: Note) -> list[Note]:
    """The note and every earlier version it amends, newest first."""
    require(principal, Permission.READ_PATIENTS)
    chain = [note]
    while chain[-1].amends is not None and len(chain) < 50:
        chain.append(stores.notes.get(note.patient_id, chain[-1].amends))
    return chain
