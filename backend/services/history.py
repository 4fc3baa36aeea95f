"""Opening one history entry (a medication list or digitized document) and its original file, audited."""

from __future__ import annotations

from backend.domain.errors import NotFound
from backend.domain.models import HistoryEntry
from backend.ports import BlobStore, RecordStore
from backend.services.access import Permission, Principal, record, require


def get_history_entry(stores: RecordStore, principal: Principal, patient_id: str, timestamp: int) -> HistoryEntry:
    """One entry of the patient's history (its medications and what the document said).

    Raises:
        PermissionDenied: the role may not read patients.
        NotFound: no such entry.
    """
    require(principal, Permission.READ_PATIENTS)
    entry = stores.history.get(patient_id, timestamp)
    record(stores.audit, principal, "history.read", patient_id, str(timestamp))
    return entry


def document_original(
    stores: RecordStore, blobs: BlobStore, principal: Principal, patient_id: str, timestamp: int
) -> bytes:
    """The original file (image or PDF) of a digitized document, as it was uploaded.

    The blob is found through the patient's own entry, never from a key the caller passes, so the audit line
    names the patient whose document was opened.

    Raises:
        PermissionDenied: the role may not read patients.
        NotFound: no such entry, the entry has no original, or the file is gone.
    """
    require(principal, Permission.READ_PATIENTS)
    entry = stores.history.get(patient_id, timestamp)
    if not entry.document_key:
        raise NotFound("This entry has no original document.")
    data = blobs.get(entry.document_key)
    record(stores.audit, principal, "document.open", patient_id, str(timestamp))
    return data
