"""A job's state for a client that polls it (the REST API; the scribe page lists a patient's jobs instead)."""

from __future__ import annotations

from backend.domain.errors import NotFound
from backend.domain.models import Job
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, require


def get_job(stores: RecordStore, principal: Principal, job_id: str) -> Job:
    """The job ``job_id`` (its status, error and the note it made), for roles that may read patients.

    Raises:
        PermissionDenied: the role may not read patients.
        NotFound: no such job (or a malformed id).
    """
    require(principal, Permission.READ_PATIENTS)
    if not job_id.startswith("JOB_") or len(job_id) > 64:
        raise NotFound("No such job.")
    return stores.jobs.get(job_id)
