"""The clinician fixes who said what (roles of transcript turns) and confirms drug names recovered from speech.

Relabelling redrafts the note from the relabelled transcript, so the draft says what the patient reported and
what the clinician found. Both act only on drafts, with the note's version (a stale screen cannot overwrite a
newer save), and write an audit line without clinical text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.domain.errors import ConcurrentUpdate, ValidationFailed
from backend.domain.medications.recovery_kept import recoveries_again
from backend.domain.models import Medication, Note, NoteStatus
from backend.domain.note_content import Diagnosis
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.scribe_pipeline import Drafter, draft_transcript

ROLES = ("clinician", "patient", "other")
SET_BY_CLINICIAN = "clinician"
_RECOVERY_FLAG = "name recovered from speech"


def swapped_roles(note: Note, first: str = "clinician", second: str = "patient") -> dict[int, str]:
    """Roles that swap two roles on every turn of ``note``; turns of the third role and unknown turns stay.

    With three speakers (a parent or attendant besides the patient) the voices can be told apart but put the
    wrong way round: swapping patient and other (or clinician and other) fixes that in one step.

    Raises:
        ValidationFailed: ``first`` or ``second`` is not a role, or they are the same.
    """
    if first not in ROLES or second not in ROLES or first == second:
        raise ValidationFailed(f"Swap two different roles of {', '.join(ROLES)}.")
    swap = {first: second, second: first}
    return {s.id: swap[s.speaker] for s in note.transcript if s.speaker in swap}


# The swaps a review screen offers: (first, second); the third role's turns stay as they are.
SWAPS = (("clinician", "patient"), ("patient", "other"), ("clinician", "other"))


def relabel_roles(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    timestamp: int,
    roles: Mapping[int, str],
    draft: Drafter,
    *,
    version: int | None = None,
) -> Note:
    """Set the role of transcript turns and redraft the note from the relabelled transcript.

    The redraft replaces the draft's text, fields and medications (the clinician's edits of the text are lost:
    the screen asks first). Confirmed recovered names stay confirmed when the redraft finds them again.

    Args:
        stores: the record store.
        principal: who relabels (needs the right to edit drafts).
        patient_id: the note's patient.
        timestamp: the note's key.
        roles: segment id -> ``clinician`` | ``patient`` | ``other``; turns not named keep their role.
        draft: the app's drafter (``App.drafter()``).
        version: the version the clinician was looking at; None means the stored one.

    Returns:
        The saved note (unchanged and not saved when no role changes).

    Raises:
        PermissionDenied: the role may not edit drafts.
        ValidationFailed: the note is signed, or a role or turn is unknown.
        ConcurrentUpdate: the note was saved by someone else since ``version``.
    """
    require(principal, Permission.EDIT_NOTES)
    note = stores.notes.get(patient_id, timestamp)
    if note.status is NoteStatus.SIGNED:
        raise ValidationFailed("This note is signed and its roles cannot change. Create an amendment instead.")
    if version is not None and version != note.version:
        raise ConcurrentUpdate()
    _check_roles(note, roles)
    changed = {i for i, role in roles.items() if _segment(note, i).speaker != role}
    if not changed:
        return note
    segments = [
        s.model_copy(update={"speaker": roles[s.id], "role_source": SET_BY_CLINICIAN}) if s.id in changed else s
        for s in note.transcript
    ]
    # Names the second listen found came from the audio, which a redraft does not hear again: they are drafted
    # again from the words they were heard as (the sounds-like recovery would find only its own).
    redraft = draft_transcript(segments, draft, recoveries_again(segments, note.provenance.recovered_names)).content
    # Facts about the recording, not the drafter's output, stay true whatever the roles are.
    provenance = redraft.provenance.model_copy(
        update={
            "audio_warnings": note.provenance.audio_warnings,
            "low_accuracy_engine": note.provenance.low_accuracy_engine,
            "engine_fallback": _merge_fallback(note.provenance.engine_fallback, redraft.provenance.engine_fallback)
            or None,
        }
    )
    content = redraft.model_copy(
        update={
            "medications": _keep_confirmations(redraft.medications, note.medications),
            "diagnoses": _keep_code_choices(redraft.diagnoses, note.diagnoses),
            "provenance": provenance,
            "speakers": redraft.speakers.model_copy(update={"roles_set_by": principal.username}),
        }
    )
    # The redraft is as drafted: no style applied, no edits of the text.
    relabelled = note.with_content(content, transcript=segments, style=None, edited_by=None)
    saved = stores.notes.update(relabelled, note.version)
    record(stores.audit, principal, "note.relabel", patient_id, f"{timestamp}: {len(changed)} turn(s) changed")
    return saved


def confirm_medication(stores: RecordStore, principal: Principal, note: Note, index: int) -> Note:
    """The clinician confirms the drug name recovered from misheard speech on medication ``index`` of ``note``.

    Raises:
        PermissionDenied: the role may not edit drafts.
        ValidationFailed: the note is signed, or that medication was not recovered from speech.
        ConcurrentUpdate: the note was saved by someone else since ``note.version``.
    """
    require(principal, Permission.EDIT_NOTES)
    if note.status is NoteStatus.SIGNED:
        raise ValidationFailed("This note is signed and cannot change. Create an amendment instead.")
    if not 0 <= index < len(note.medications) or note.medications[index].found_by != "sounds_like":
        raise ValidationFailed("That medication was not recovered from speech; reload the note.")
    meds = list(note.medications)
    meds[index] = confirmed(meds[index])
    saved = stores.notes.update(note.model_copy(update={"medications": meds}), note.version)
    record(stores.audit, principal, "note.confirm_medication", note.patient_id, f"{note.timestamp}: medication {index}")
    return saved


def confirmed(med: Medication) -> Medication:
    """``med`` as confirmed by the clinician: verified, found by the clinician, still saying what was heard."""
    flags = [f for f in med.flags if not f.startswith(_RECOVERY_FLAG)]
    return med.model_copy(update={"verified": True, "found_by": SET_BY_CLINICIAN, "flags": flags})


def _check_roles(note: Note, roles: Mapping[int, str]) -> None:
    ids = {s.id for s in note.transcript}
    unknown_ids = sorted(set(roles) - ids)
    if unknown_ids:
        raise ValidationFailed(f"The transcript has no turn {unknown_ids[0]}; reload the note.")
    bad = sorted({r for r in roles.values() if r not in ROLES})
    if bad:
        raise ValidationFailed(f"“{bad[0]}” is not a role; choose {', '.join(ROLES)}.")


def _segment(note: Note, segment_id: int) -> Any:
    return next(s for s in note.transcript if s.id == segment_id)


def _keep_confirmations(new: list[Medication], old: list[Medication]) -> list[Medication]:
    """A recovered name the clinician already confirmed (same name, same heard words) stays confirmed."""
    done = {(m.name.lower(), m.heard_as) for m in old if m.found_by == SET_BY_CLINICIAN and m.heard_as}
    return [confirmed(m) if m.found_by == "sounds_like" and (m.name.lower(), m.heard_as) in done else m for m in new]


def _keep_code_choices(new: list[Diagnosis], old: list[Diagnosis]) -> list[Diagnosis]:
    """A clinician's ICD-10 decision on a diagnosis stays with the diagnosis of the same words in the redraft."""
    chosen = {d.text.strip().lower(): d.icd10 for d in old if d.icd10 is not None}
    return [
        d.model_copy(update={"icd10": chosen[key]})
        if d.icd10 is None and (key := d.text.strip().lower()) in chosen
        else d
        for d in new
    ]


def _merge_fallback(old: str | None, new: str | None) -> str:
    """The speech engine's fallback notice (kept from the recording) beside the drafter's, without repeats."""
    old_s, new_s = str(old or "").strip(), str(new or "").strip()
    if not old_s or not new_s or new_s in old_s:
        return old_s or new_s
    return f"{old_s} {new_s}"
