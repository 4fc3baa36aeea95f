"""Replaying the recording of a consultation from its note, audited."""

from __future__ import annotations

from backend.domain.errors import NotFound
from backend.ports import BlobStore, RecordStore
from backend.services.access import Permission, Principal, record, require


def recording_audio(
    stores: RecordStore, blobs: BlobStore, principal: Principal, patient_id: str, timestamp: int
) -> bytes:
    """The audio of the note at (``patient_id``, ``timestamp``), for the review panel's player.

    The blob key comes from the stored note, so only a note's own recording can be replayed and the audit line
    names its patient.

    Raises:
        PermissionDenied: the role may not read patients.
        NotFound: no such note, the note has no recording, or it was deleted under the retention policy.
    """
    require(principal, Permission.READ_PATIENTS)
    note = stores.notes.get(patient_id, timestamp)
    if not note.audio_key:
        raise NotFound("This note has no recording.")
    audio = blobs.get(note.audio_key)
    record(stores.audit, principal, "note.audio_play", patient_id, str(timestamp))
    return audio
