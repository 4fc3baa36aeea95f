"""One delivery of a job that is worked on as its submitter: a document's reading or a health-data import.

Both handlers claim the job with the recordings' fence (``backend.services.scribe.run_job_attempt``), then act as
the account that uploaded the file, its role as it is now (a disabled account gets nothing done for it): that rule
is written once here, so the two kinds cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.domain.models import Job
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.job_submit import job_submitter
from backend.services.scribe import run_job_attempt

SubmittedWork = Callable[[Job, Principal], None]  # (the claimed job, its submitter) -> None


def run_as_submitter(
    stores: RecordStore, job_id: str, max_attempts: int, work: SubmittedWork, *, upload: str, give_up: str
) -> None:
    """Claim ``job_id`` and run ``work`` on it as its submitter; settle the job as ``run_job_attempt`` does.

    Args:
        stores: the record store (the job row and the submitter's account).
        job_id: the job delivered.
        max_attempts: attempts before an unexpected error fails the job with ``give_up``.
        work: ``work(job, submitter)``; its expected errors (``CopilotError``) fail the job with their message.
        upload: what was uploaded, as a refusal names it ("document", "file").
        give_up: the final error, with ``{attempts}`` and ``{error}`` filled in.
    """
    run_job_attempt(
        stores, job_id, max_attempts, lambda job: work(job, job_submitter(stores, job, upload)), give_up=give_up
    )
