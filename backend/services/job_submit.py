"""Submitting a job whose file is already stored: record it, or leave no file behind; then queue it.

Recordings, documents and health-data imports are submitted the same way, so the one rule lives here: a stored
file that no record names is released (never deleted unchecked: ``release_blob`` asks the census first).
"""

from __future__ import annotations

import contextlib

from backend.domain.errors import NotFound
from backend.domain.models import Job
from backend.ports import BlobStore, JobQueue, RecordStore
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
