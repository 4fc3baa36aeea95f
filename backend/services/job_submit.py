"""Submitting a job whose file is already stored: record it, or leave no file behind; then queue it.

Recordings, documents and health-data imports are submitted the same way, so the one rule lives here: a stored
file that no record names is released (never deleted unchecked: ``release_blob`` asks the census first). Documents
and imports are also worked on as their submitter and looked up only by them, so those two rules live here too.
"""

from __future__ import annotations

import contextlib

from backend.domain.errors import NotFound, PermissionDenied
from backend.domain.models import Job
from backend.ports import BlobStore, JobQueue, RecordStore
from backend.services.access import Principal
from backend.services.retention import release_blob


def enqueue_stored(stores: RecordStore, blobs: BlobStore, queue: JobQueue, job: Job) -> None:
    """Record ``job`` (its file stored under ``job.blob_key``) and send it to the worker.

    If the record cannot be written, no record names the file, so it is released; if the census fails too, the
    write's error is the one raised and the file stays for ``blobs orphans`` to find.
    """
    try:
        stores.jobs.add(job)
    except Exception:
        with contextlib.suppress(Exception):
            release_blob(stores, blobs, job.blob_key)
        raise
    queue.send(job.job_id)


def is_job_of_kind(stores: RecordStore, job_id: str, kind: str) -> bool:
    """True when ``job_id`` is a job of ``kind`` (the worker's dispatch; a missing job is not)."""
    try:
        return stores.jobs.get(job_id).kind == kind
    except NotFound:
        return False


def job_submitter(stores: RecordStore, job: Job, upload: str) -> Principal:
    """The account that submitted ``job``, with its role as it is now, for the worker to act as.

    Args:
        upload: what was uploaded, as the refusal names it ("document", "file").

    Raises:
        PermissionDenied: the account is gone or disabled (a disabled account gets nothing done for it).
    """
    try:
        user = stores.users.get(job.created_by)
    except NotFound:
        raise PermissionDenied(f"The account that uploaded this {upload} no longer exists.") from None
    if user.disabled:
        raise PermissionDenied(f"The account that uploaded this {upload} is disabled.")
    return Principal(user.username, user.role)


def own_job(stores: RecordStore, principal: Principal, job_id: str, kind: str, gone: str) -> Job:
    """The job ``job_id`` if it is of ``kind`` and ``principal`` submitted it (the caller checked the role).

    Any other job, a missing one and a malformed id all raise the same ``NotFound(gone)``, so a user learns
    nothing of other users' jobs.
    """
    if not job_id.startswith("JOB_") or len(job_id) > 64:
        raise NotFound(gone)
    try:
        job = stores.jobs.get(job_id)
    except NotFound:
        raise NotFound(gone) from None
    if job.kind != kind or job.created_by != principal.username:
        raise NotFound(gone)
    return job
