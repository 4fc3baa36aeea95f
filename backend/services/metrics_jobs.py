"""Importing a health-data file as a job, like a document: submit -> stored file -> queue -> worker -> stored report.

Parsing a wearable export takes seconds (a 60-day Apple Health export is ~25 MB of XML) and a long CSV far more:
it runs in the worker, never in the page's or the API's process. The submitter's checks run at once (role,
patient, size, a file type we import), so a wrong file is refused before anything is stored; the file is then
kept until the worker has imported it, so a failed import (its reason on the job) loses nothing and can be
retried. Once imported, the raw file is released (the daily values are the record, see
``backend.services.metrics``) and the import report is kept as a small blob, for the page and the API to show
(the newest :data:`KEEP_FINISHED` per user and patient: a report is working state, like a document's reading).

Delivery is at-least-once with the recordings' fence, as the submitter (``backend.services.submitted_jobs``). A retried
import is idempotent: daily values are upserts keyed by patient, metric and day, so a second run writes the
same rows (its report then says they were already imported).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass

from backend.domain.errors import NotFound, UnsupportedInput, ValidationFailed
from backend.domain.limits import DEFAULT_LIMITS, Limits
from backend.domain.metrics import ImportReport
from backend.domain.models import Job, JobStatus
from backend.formats.importers import HEAD_BYTES, detect_format
from backend.ports import BlobStore, JobQueue, RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.job_submit import enqueue_stored, is_job_of_kind, own_job
from backend.services.metrics import import_metrics, upload_kind
from backend.services.scribe import IN_PROGRESS, store_result
from backend.services.submitted_jobs import run_as_submitter

METRICS_JOB = "metrics_import"
# A long CSV naming its patients per row, imported with no patient chosen: the job belongs to no one patient.
ANY_PATIENT = "*"
KEEP_FINISHED = 20  # finished imports (and reports) kept per user and patient; older ones are dropped at a submit
GONE = "No such import (it was removed, or started by someone else): upload the file again."


@dataclass(frozen=True)
class MetricsJobDeps:
    """What metrics import jobs need; built by bootstrap (``App.metrics_job_deps()``)."""

    stores: RecordStore
    blobs: BlobStore
    queue: JobQueue
    limits: Limits = DEFAULT_LIMITS


def submit_import(
    deps: MetricsJobDeps,
    principal: Principal,
    patient_id: str | None,
    data: bytes,
    filename: str,
    source: str = "upload",
) -> Job:
    """Check the file, store it and queue its import; the worker imports it as the submitter.

    Args:
        patient_id: the chosen patient; None only for a long CSV naming registered patients per row.

    Raises:
        PermissionDenied: the role may not import health data.
        NotFound: ``patient_id`` is not a registered patient.
        UnsupportedInput: empty, too large, or not a type we import (nothing is stored).
    """
    require(principal, Permission.IMPORT_METRICS)
    if patient_id is not None:
        deps.stores.patients.get(patient_id)
    if not data:
        raise UnsupportedInput("The file is empty (0 bytes). Choose the file again and re-upload it.")
    if len(data) > deps.limits.max_import_bytes:
        raise UnsupportedInput(
            f"This file is {len(data) / 1e6:.0f} MB; the limit is {deps.limits.max_import_bytes / 1e6:.0f} MB "
            "(COPILOT_MAX_UPLOAD_MB). Export a shorter period or split the file."
        )
    fmt = detect_format(data[:HEAD_BYTES], filename)
    key = deps.blobs.put(data, content_type="application/octet-stream", prefix="metrics-imports")
    job = Job(
        job_id=f"JOB_{secrets.token_hex(8)}",
        kind=METRICS_JOB,
        patient_id=patient_id or ANY_PATIENT,
        blob_key=key,
        created_by=principal.username,
        filename=filename[:200],
        source=source,
        codec=fmt,  # the detected format, shown while the job waits
    )
    enqueue_stored(deps.stores, deps.blobs, deps.queue, job)
    _prune(deps, principal, job.patient_id)
    record(
        deps.stores.audit,
        principal,
        "metrics.submit",
        patient_id,
        f"{job.job_id} {upload_kind(filename)} {len(data)} bytes",
    )
    return job


def is_metrics_job(stores: RecordStore, job_id: str) -> bool:
    """True when ``job_id`` is a metrics import job (the worker's dispatch; a missing job is not)."""
    return is_job_of_kind(stores, job_id, METRICS_JOB)


def process_metrics_job(deps: MetricsJobDeps, job_id: str) -> None:
    """Worker handler (idempotent): import the stored file as its submitter (role checked and audited then).

    A file that cannot be imported, or a submitter who was disabled, ends the job as ``failed`` with the reason
    (the file is kept for a retry); other errors are retried up to ``deps.limits.job_max_attempts`` times.
    """

    def work(job: Job, submitter: Principal) -> None:
        pid = None if job.patient_id == ANY_PATIENT else job.patient_id
        data = deps.blobs.get(job.blob_key)
        report = import_metrics(submitter, deps.stores, deps.blobs, pid, data, job.filename)
        store_result(deps.stores, deps.blobs, job, _encode(report, job.job_id), "metrics-reports", blob_key="")
        # Imported: the daily values are the record; the raw file goes (unless another import holds the same bytes).
        _release_file(deps, job)

    run_as_submitter(
        deps.stores,
        job_id,
        deps.limits.job_max_attempts,
        work,
        upload="file",
        give_up="Importing failed {attempts} times ({error}). Upload the file again later.",
    )


def _release_file(deps: MetricsJobDeps, done: Job) -> None:
    """Delete an imported file unless another unfinished (or failed, so retryable) import names the same bytes.

    Only import jobs name these files (their own ``metrics-imports`` prefix), so the jobs by status are the whole
    census, including imports that belong to no one patient.
    """
    for status in (*IN_PROGRESS, JobStatus.FAILED):
        if any(
            j.blob_key == done.blob_key and j.job_id != done.job_id
            for j in deps.stores.jobs.list_by_status(status, 1000)
        ):
            return
    with contextlib.suppress(NotFound):
        deps.blobs.delete(done.blob_key)


def _prune(deps: MetricsJobDeps, principal: Principal, patient_id: str) -> None:
    """Drop this user's finished imports for the patient beyond the newest :data:`KEEP_FINISHED` (and their reports).

    A report is working state, like a document's reading: the daily values and the audit trail are the record.
    """
    jobs = [
        j
        for j in deps.stores.jobs.list_for_patient(patient_id, limit=200)
        if j.kind == METRICS_JOB and j.created_by == principal.username and j.status is JobStatus.READY
    ]
    for job in sorted(jobs, key=lambda j: j.created_at, reverse=True)[KEEP_FINISHED:]:
        deps.stores.jobs.delete(job.job_id)
        if job.result_key:
            with contextlib.suppress(NotFound):
                deps.blobs.delete(job.result_key)


def import_job(deps: MetricsJobDeps, principal: Principal, job_id: str) -> Job:
    """The user's own import job (its status; ``result_key`` once imported).

    Raises:
        PermissionDenied: the role may not import health data.
        NotFound: no such import job started by this user.
    """
    require(principal, Permission.IMPORT_METRICS)  # before the lookup: a refused role learns nothing
    return own_job(deps.stores, principal, job_id, METRICS_JOB, GONE)


def import_report(deps: MetricsJobDeps, principal: Principal, job_id: str) -> ImportReport | None:
    """The report of the user's finished import; None while the worker is still importing.

    Raises:
        PermissionDenied: the role may not import health data.
        NotFound: no such import job started by this user.
        ValidationFailed: the import failed (its reason; the file is kept: retry the job or upload it again).
    """
    job = import_job(deps, principal, job_id)
    if job.status is JobStatus.FAILED:
        raise ValidationFailed(job.error or "Importing this file failed. Upload it again.")
    if job.status in IN_PROGRESS or job.result_key is None:
        return None
    return _decode(deps.blobs.get(job.result_key))


def _encode(report: ImportReport, job_id: str) -> bytes:
    # The job id makes each report's bytes (and so its content-addressed key) its own: no two jobs share one.
    return json.dumps({"job_id": job_id, "report": report.to_dict()}, sort_keys=True).encode()


def _decode(data: bytes) -> ImportReport:
    fields = dict(json.loads(data)["report"])
    fields["rejected"] = [(int(line), str(reason)) for line, reason in fields.get("rejected", [])]
    return ImportReport(**fields)


def retry_import(deps: MetricsJobDeps, principal: Principal, job_id: str) -> Job:
    """Queue the user's failed import again (its file was kept); idempotent imports make this safe.

    Raises:
        PermissionDenied: the role may not import health data.
        NotFound: no such import job started by this user.
        ValidationFailed: the job has not failed.
    """
    job = import_job(deps, principal, job_id)
    if job.status is not JobStatus.FAILED or not job.blob_key:
        raise ValidationFailed("Only a failed import can be retried.")
    job = deps.stores.jobs.update(
        job.model_copy(update={"status": JobStatus.QUEUED, "attempts": 0, "error": None}), job.version
    )
    deps.queue.send(job_id)
    pid = None if job.patient_id == ANY_PATIENT else job.patient_id
    record(deps.stores.audit, principal, "metrics.retry", pid, job_id)
    return job
