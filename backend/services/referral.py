"""The referral letter of a signed note: drafted from the records, edited by the doctor, saved to the timeline."""

from __future__ import annotations

from datetime import UTC, tzinfo

from backend.domain.errors import ValidationFailed
from backend.domain.models import HistoryEntry
from backend.domain.reconcile import reconcile
from backend.domain.referral import Referral, build_referral
from backend.domain.text import fold
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.auth import display_name
from backend.services.timeline import all_history, all_notes, medication_sources

SOURCE = "referral"
MAX_LETTER = 20_000
MAX_LINE = 300


def draft_referral(
    stores: RecordStore, principal: Principal, patient_id: str, note_ts: int, tz: tzinfo = UTC
) -> Referral:
    """The letter's parts from one signed note and the patient's reconciled medication list (nothing is stored).

    Raises:
        PermissionDenied (needs EXPORT: the letter leaves the practice), NotFound,
        ReferralNeedsSignedNote (the note is a draft).
    """
    require(principal, Permission.EXPORT)
    patient = stores.patients.get(patient_id)
    note = stores.notes.get(patient_id, note_ts)
    meds = reconcile(medication_sources(all_notes(stores, patient_id), all_history(stores, patient_id)), tz=tz)
    referral = build_referral(note, patient, meds, clinician=display_name(stores, note.signer), tz=tz)
    record(stores.audit, principal, "referral.draft", patient_id, f"note={note.timestamp}")
    return referral


def save_referral(
    stores: RecordStore, principal: Principal, patient_id: str, referral_text_edited: str, to: str, reason: str
) -> HistoryEntry:
    """Save the letter as the doctor edited it as a document on the patient's timeline (audited, without its text).

    Args:
        stores: the record store.
        principal: the signed-in doctor (needs EXPORT).
        patient_id: whose timeline.
        referral_text_edited: the whole letter as it will be sent.
        to: the recipient (a specialist, department or hospital); the letter must name it.
        reason: the reason for referral; the letter must state it.

    Raises:
        PermissionDenied, NotFound (unknown patient), ValidationFailed (an empty part, a letter that does not
        name the recipient or the reason, or one too long).
    """
    require(principal, Permission.EXPORT)
    stores.patients.get(patient_id)
    text, to, reason = referral_text_edited.strip(), " ".join(to.split()), " ".join(reason.split())
    if not to or not reason:
        raise ValidationFailed("Type whom the patient is referred to and why before saving the letter.")
    if len(to) > MAX_LINE or len(reason) > MAX_LINE * 3:
        raise ValidationFailed("The recipient or the reason is too long; shorten it.")
    if not text or len(text) > MAX_LETTER:
        raise ValidationFailed(f"The letter must hold between 1 and {MAX_LETTER} characters.")
    folded = fold(" ".join(text.split()))
    if fold(to) not in folded or fold(reason) not in folded:
        # The saved document is what is sent: it has to carry the recipient and reason the doctor typed.
        raise ValidationFailed("The letter does not name the recipient or the reason typed above; redraw it.")
    entry = stores.history.add(
        HistoryEntry(patient_id=patient_id, source=SOURCE, extracted_text=text, author=principal.username)
    )
    record(stores.audit, principal, "referral.create", patient_id, f"{entry.timestamp} chars={len(text)}")
    return entry
