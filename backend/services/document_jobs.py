"""Reading a document as a job, like a recording: submit -> stored blob -> queue -> worker -> stored reading.

OCR takes seconds per page and hundreds of MB: it runs in the worker, never in the page's or the API's
process, so browsing stays quick while documents are read. The submitter checks the reading (the page shows
it when the job is ready; the API returns it from the reading route) and saves or cancels it. The reading is
kept as a blob, so it survives a page reload and reaches whichever process serves the next request.

Delivery is at-least-once, with the same fence as recordings (``backend.services.scribe``): each claim counts
an attempt and a worker writes only while the job row carries its attempt. A second delivery of a finished
job does nothing; reading again after a crash mid-way is harmless (nothing is saved until the clinician saves).
For a document job, the status ``transcribing`` means its pages are being read.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date

from backend.domain.document_identity import compare_identity, read_identity
from backend.domain.errors import NotFound, UnsupportedInput, ValidationFailed
from backend.domain.models import HistoryEntry, Job, JobStatus, Medication
from backend.ports import JobQueue, RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.digitize import DigitizeDeps, Reading, cancel_mismatch, read_document, save_digitized
from backend.services.job_submit import enqueue_stored, is_job_of_kind, own_job
from backend.services.reading_blob import decode_reading, encode_reading
from backend.services.scribe import IN_PROGRESS, store_result
from backend.services.submitted_jobs import run_as_submitter

log = logging.getLogger(__name__)
DOCUMENT_JOB = "document"
GONE = "No such reading (it was saved, cancelled or read by someone else): upload the document again."


def submit_document(
    deps: DigitizeDeps,
    queue: JobQueue,
    principal: Principal,
    patient_id: str,
    data: bytes,
    filename: str,
    source: str = "upload",
) -> Job:
    """Check the document's size and type, store it and queue its reading; the worker reads it.

    Raises:
        PermissionDenied: the role may not digitize.
        NotFound: no such patient.
        UnsupportedInput: too large, empty, or not an accepted type (nothing is stored). Page count and pixel
            limits are checked by the worker, which opens the document (the job then fails with the reason).
    """
    require(principal, Permission.DIGITIZE)
    deps.stores.patients.get(patient_id)
    name = f"“{filename[:80]}”" if filename else "This file"
    if len(data) > deps.limits.max_document_bytes:
        raise UnsupportedInput(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {deps.limits.max_document_bytes / 1e6:.0f} MB. "
            "Upload a smaller photo or split the PDF."
        )
    mime = deps.mime_of(data)
    key = deps.blobs.put(data, content_type=mime, prefix="documents")
    job = Job(
        job_id=f"JOB_{secrets.token_hex(8)}",
        kind=DOCUMENT_JOB,
        patient_id=patient_id,
        blob_key=key,
        created_by=principal.username,
        filename=filename[:200],
        source=source,
    )
    enqueue_stored(deps.stores, deps.blobs, queue, job)
    record(deps.stores.audit, principal, "digitize.submit", patient_id, f"{job.job_id} {mime} {len(data)} bytes")
    return job


def is_document_job(stores: RecordStore, job_id: str) -> bool:
    """True when ``job_id`` is a document job (the worker's dispatch; a missing job is not)."""
    return is_job_of_kind(stores, job_id, DOCUMENT_JOB)


def process_document_job(deps: DigitizeDeps, job_id: str) -> None:
    """Worker handler (idempotent): read the document as its submitter (role checked and audited then).

    Expected failures (an unreadable document, a disabled account) end the job as ``failed`` with the reason;
    others are retried up to ``deps.limits.job_max_attempts`` times.
    """

    def work(job: Job, submitter: Principal) -> None:
        reading = read_document(deps, submitter, job.patient_id, deps.blobs.get(job.blob_key), job.filename)
        store_result(deps.stores, deps.blobs, job, encode_reading(reading, job.job_id), "readings")

    run_as_submitter(
        deps.stores,
        job_id,
        deps.limits.job_max_attempts,
        work,
        upload="document",
        give_up="Reading failed {attempts} times ({error}). Upload the document again later.",
    )


def list_document_jobs(deps: DigitizeDeps, principal: Principal, patient_id: str) -> list[Job]:
    """This user's document jobs for the patient, newest first (a reading is its reader's working state)."""
    require(principal, Permission.DIGITIZE)
    jobs = deps.stores.jobs.list_for_patient(patient_id)
    return [j for j in jobs if j.kind == DOCUMENT_JOB and j.created_by == principal.username]


def _own_job(deps: DigitizeDeps, principal: Principal, patient_id: str, job_id: str) -> Job:
    require(principal, Permission.DIGITIZE)  # before the lookup: a refused role learns nothing of readings
    job = own_job(deps.stores, principal, job_id, DOCUMENT_JOB, GONE)
    if job.patient_id != patient_id:
        raise NotFound(GONE)
    return job


def document_job(deps: DigitizeDeps, principal: Principal, patient_id: str, job_id: str) -> Job:
    """The user's own document job (its status; ``result_key`` once read).

    Raises:
        PermissionDenied: the role may not digitize.
        NotFound: no such job for this user and patient (or it was saved or cancelled).
    """
    return _own_job(deps, principal, patient_id, job_id)


def load_reading(deps: DigitizeDeps, principal: Principal, patient_id: str, job_id: str) -> Reading | None:
    """The stored reading of a finished job, its identity checked again; None while the job is still running.

    Raises:
        PermissionDenied: the role may not digitize.
        NotFound: no such job for this user and patient.
        ValidationFailed: the job failed (its reason).
    """
    job = _own_job(deps, principal, patient_id, job_id)
    if job.status is JobStatus.FAILED:
        raise ValidationFailed(job.error or "Reading this document failed. Upload it again.")
    if job.status in IN_PROGRESS or job.result_key is None:
        return None
    reading = decode_reading(deps.blobs.get(job.result_key))
    patient = deps.stores.patients.get(patient_id)
    today: date = deps.today()
    reading.identity = compare_identity(read_identity(reading.text, deps.region, today), patient, today)
    return reading


def save_reading(
    deps: DigitizeDeps,
    principal: Principal,
    patient_id: str,
    job_id: str,
    medications: list[Medication] | None,
    *,
    document_date: date | None = None,
    confirm_patient: bool = False,
) -> HistoryEntry:
    """Save a finished job's document with its (edited) list (see ``save_digitized``), then drop the job.

    Args:
        medications: the list as the clinician edited it; None keeps the list as read.

    Raises:
        NotFound: no such reading for this user and patient (already saved or cancelled).
        ValidationFailed: not read yet, failed, or refused by ``save_digitized``.
    """
    job = _own_job(deps, principal, patient_id, job_id)
    reading = load_reading(deps, principal, patient_id, job_id)
    if reading is None:
        raise ValidationFailed("This document is still being read; wait until its list is shown.")
    entry = save_digitized(
        deps,
        principal,
        patient_id,
        deps.blobs.get(job.blob_key),
        reading,
        reading.medications if medications is None else medications,
        document_date=document_date,
        confirm_patient=confirm_patient,
    )
    _drop(deps, job)
    return entry


def discard_reading(deps: DigitizeDeps, principal: Principal, patient_id: str, job_id: str) -> None:
    """Drop a reading without saving (a document that names someone else is cancelled in the audit trail).

    The document's blob is kept: the same bytes may be a saved document of a patient (content-addressed keys).
    """
    job = _own_job(deps, principal, patient_id, job_id)
    if job.status not in IN_PROGRESS:
        try:
            reading = load_reading(deps, principal, patient_id, job_id)
        except ValidationFailed:  # a failed job: nothing was read
            reading = None
        if reading is not None and reading.identity is not None and reading.identity.status == "mismatch":
            cancel_mismatch(deps, principal, patient_id, reading)
    _drop(deps, job)


def _drop(deps: DigitizeDeps, job: Job) -> None:
    # The job row and the reading are working state: once saved (or cancelled) neither is kept.
    deps.stores.jobs.delete(job.job_id)
    if job.result_key is not None:
        deps.blobs.delete(job.result_key)
