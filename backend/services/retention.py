"""Audio retention: recordings of signed consultations are deleted once the clinic's retention period ends.

Audio is kept by default, because clinicians replay the evidence of a draft while they review it. A clinic
whose rules limit how long recordings may be kept sets ``COPILOT_AUDIO_RETENTION_DAYS`` and runs
``python -m backend purge-audio`` daily (cron, a systemd timer, a scheduled task). A recording is deleted when
every note made from it was signed more than that many days ago; drafts, amendments in progress and jobs that
are still queued, running or failed (a retry needs the audio) keep theirs. The note itself — transcript, text,
medications — is untouched (signed notes are immutable); the review page then says the recording was removed
under the retention policy. Every deletion is in the audit trail.

On AWS the bucket's lifecycle rule (``AudioRetentionDays`` in ``infra/template.yaml``) does the same job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.domain.errors import NotFound, ValidationFailed
from backend.domain.models import JobStatus, Note, NoteStatus, now_ms
from backend.ports import BlobStore, RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.paging import every

DAY_MS = 86_400_000
_KEEP_FOR_JOBS = (JobStatus.QUEUED, JobStatus.TRANSCRIBING, JobStatus.DRAFTING, JobStatus.FAILED)


@dataclass
class PurgeReport:
    """What a purge did (or, with ``dry_run``, would do)."""

    retention_days: int
    dry_run: bool
    deleted: list[str] = field(default_factory=list)  # blob keys
    kept_in_use: int = 0  # recordings past the period but still needed (a draft, a job to retry)
    patients_scanned: int = 0


def purge_audio(
    stores: RecordStore,
    blobs: BlobStore,
    principal: Principal,
    retention_days: int,
    *,
    now: int | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete recordings whose notes were all signed more than ``retention_days`` ago.

    Raises:
        PermissionDenied: only administrators apply the retention policy.
        ValidationFailed: ``retention_days`` is below 1 (0 means "keep forever": nothing to purge).
    """
    require(principal, Permission.APPLY_RETENTION)
    if retention_days < 1:
        raise ValidationFailed(
            "Audio retention is off (keep forever). Set COPILOT_AUDIO_RETENTION_DAYS or pass --days N (N ≥ 1)."
        )
    cutoff = (now if now is not None else now_ms()) - retention_days * DAY_MS
    report = PurgeReport(retention_days=retention_days, dry_run=dry_run)
    # Stored files are content-addressed: the same recording stored for two patients is one file. Every use is
    # gathered first, across all patients, so one patient's purge never deletes what another still needs.
    uses: dict[str, list[Note]] = {}
    busy: set[str] = set()
    for patient in every(lambda cursor: stores.patients.list_page(cursor=cursor, limit=200)):
        report.patients_scanned += 1
        _gather(stores, patient.patient_id, uses, busy)
    for key, notes in uses.items():
        _purge_recording(stores, blobs, principal, key, notes, key in busy, cutoff, report)
    record(
        stores.audit,
        principal,
        "retention.purge_audio",
        detail=f"days={retention_days} deleted={len(report.deleted)} kept={report.kept_in_use} dry_run={dry_run}",
    )
    return report


def blobs_in_use(stores: RecordStore) -> set[str]:
    """Every stored file a record names, across all patients: recordings, documents, jobs and their readings.

    The one census of uses (the purge's own): content-addressed files are shared, so a file may be deleted only
    when this set, taken after the record that used it is gone, does not hold its key.
    """
    named: set[str] = set()
    for patient in every(lambda cursor: stores.patients.list_page(cursor=cursor, limit=200)):
        _gather(stores, patient.patient_id, {}, set(), named)
    return named


def release_blob(stores: RecordStore, blobs: BlobStore, key: str | None) -> bool:
    """Delete the file ``key`` unless a record of any patient still names it (a write that failed, a deleted job).

    Returns:
        True when the file was deleted; False when it is still in use (or was already gone).
    """
    if not key or key in blobs_in_use(stores):
        return False
    try:
        blobs.delete(key)
    except NotFound:
        return False
    return True


def _gather(
    stores: RecordStore,
    patient_id: str,
    uses: dict[str, list[Note]],
    busy: set[str],
    named: set[str] | None = None,
) -> None:
    """Add the patient's notes to ``uses`` (by recording) and the recordings its unfinished jobs need to ``busy``.

    With ``named``, also add every file the patient's records name (notes, documents, any job and its reading).
    """
    for note in every(lambda cursor: stores.notes.list_for_patient(patient_id, cursor=cursor, limit=200)):
        if note.audio_key:
            uses.setdefault(note.audio_key, []).append(note)
    jobs = stores.jobs.list_for_patient(patient_id, limit=500)
    busy.update(j.blob_key for j in jobs if j.status in _KEEP_FOR_JOBS)
    if named is None:
        return
    named.update(uses)
    named.update(k for j in jobs for k in (j.blob_key, j.result_key) if k)
    entries = every(lambda cursor: stores.history.list_for_patient(patient_id, cursor, 200))
    named.update(e.document_key for e in entries if e.document_key)


def _purge_recording(
    stores: RecordStore,
    blobs: BlobStore,
    principal: Principal,
    key: str,
    notes: list[Note],
    in_use: bool,
    cutoff: int,
    report: PurgeReport,
) -> None:
    expired = all(n.status is NoteStatus.SIGNED and (n.signed_at or n.updated_at) < cutoff for n in notes)
    if not expired:
        return
    if in_use:
        report.kept_in_use += 1
        return
    if not blobs.exists(key):
        return  # purged before
    if not report.dry_run:
        try:
            blobs.delete(key)
        except NotFound:
            return
        for patient_id in sorted({n.patient_id for n in notes}):
            record(stores.audit, principal, "retention.delete_audio", patient_id, key)
    report.deleted.append(key)
