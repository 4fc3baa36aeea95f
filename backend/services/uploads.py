"""Direct uploads (seed 004): a presigned form for one recording, then its arrival (an S3 event) starts the job.

``request_upload`` signs a form for a staging key under the patient's prefix; the client sends the file
straight to the bucket (or, locally, to the API's form route, checked the same way). The bucket announces the
object (S3 event -> SQS, or the local inbox) and ``handle_event`` turns it into the scribe job once: the job
id comes from the upload id, so a repeated event finds the job it made. An object that is not audio, too big
or for an unknown upload is refused, recorded (a failed job and an audit line) and deleted, never processed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.domain.errors import AlreadyExists, CopilotError, NotFound, UnsupportedInput
from backend.domain.models import AuditEvent, Job, JobStatus
from backend.domain.upload_policy import (
    AUDIO_TYPE_PREFIX,
    REQUESTER_FIELD,
    Arrival,
    PendingUpload,
    UploadRefused,
    expires_at,
    is_staging_key,
    job_id_of,
    new_upload,
    parse_s3_event,
    post_conditions,
    s3_event,
    verify_key,
)
from backend.ports import EventInbox, UploadStaging
from backend.services.access import OPERATOR, OPERATOR_ROLE, Permission, Principal, record, require
from backend.services.scribe import ScribeDeps, probe_recording

log = logging.getLogger(__name__)
REFUSED_SOURCE = "upload-refused"


@dataclass(frozen=True)
class UploadDeps:
    """What direct uploads need; built by bootstrap (``App.upload_deps()``)."""

    scribe: ScribeDeps
    staging: UploadStaging
    inbox: EventInbox
    secret: bytes
    url_seconds: int = 900
    bucket: str = "local"
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class UploadForm:
    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: int
    max_bytes: int


@dataclass(frozen=True)
class UploadState:
    """Where an upload is: awaiting_upload | expired | refused | accepted (then ``job`` tells the rest)."""

    upload_id: str
    status: str
    job: Job | None = None
    error: str | None = None


def request_upload(deps: UploadDeps, principal: Principal, patient_id: str) -> UploadForm:
    """A form that lets the caller upload one recording of ``patient_id`` straight to storage.

    Raises:
        PermissionDenied: the role may not record consultations.
        NotFound: no such patient.
    """
    require(principal, Permission.RECORD)
    deps.scribe.stores.patients.get(patient_id)
    expiry = int(deps.clock()) + deps.url_seconds
    upload = new_upload(deps.secret, patient_id, principal.username, expiry)
    encryption = deps.staging.encryption_fields()
    max_bytes = deps.scribe.limits.max_audio_bytes
    conditions = post_conditions(upload, max_bytes, encryption)
    fields = {"key": upload.key, REQUESTER_FIELD: principal.username, **encryption}
    form = deps.staging.presign(upload.key, fields, conditions, deps.url_seconds)
    record(deps.scribe.stores.audit, principal, "upload.url", patient_id, upload.upload_id)
    return UploadForm(upload.upload_id, form.url, form.fields, expiry, max_bytes)


def upload_state(deps: UploadDeps, principal: Principal, upload_id: str) -> UploadState:
    """Where the upload ``upload_id`` is (its job once the object arrived).

    Raises:
        PermissionDenied: the role may not read patients.
        ValidationFailed: not an upload id.
    """
    require(principal, Permission.READ_PATIENTS)
    expiry = expires_at(upload_id)
    try:
        job = deps.scribe.stores.jobs.get(job_id_of(upload_id))
    except NotFound:
        status = "awaiting_upload" if deps.clock() <= expiry else "expired"
        return UploadState(upload_id, status)
    if job.source == REFUSED_SOURCE:
        return UploadState(upload_id, "refused", job, job.error)
    return UploadState(upload_id, "accepted", job, job.error)


def accept_local_form(deps: UploadDeps, fields: dict[str, str], content_type: str, data: bytes) -> str:
    """Stage a local form upload (checked against its signed policy) and announce it on the inbox.

    The signed form is the authority here, as a presigned POST is for S3: no token is needed.

    Raises:
        NotFound: uploads go straight to S3 in this deployment.
        UploadRefused: the form breaks its policy.
    """
    accept = getattr(deps.staging, "accept_form", None)
    if accept is None:
        raise NotFound("Uploads go straight to the bucket here: POST the form to the URL it came with.")
    key, staged = accept(fields, content_type, data, deps.clock())
    deps.inbox.send(s3_event(deps.bucket, key, staged.size, datetime.now(UTC)))
    return str(key)


def handle_event(deps: UploadDeps, body: str, redelivered: bool = False) -> list[str]:
    """Act on one S3 event notification (idempotent); returns each object's outcome, for logs and tests.

    ``redelivered``: this message was received before (its handling may have stopped mid-way).

    Outcomes: ``queued`` (a new job), ``duplicate`` (its job exists), ``refused``, ``gone`` (nothing staged),
    ``ignored`` (a key outside the staging prefix).

    Raises:
        ValidationFailed: the body is not an S3 event (the consumer drops it).
    """
    return [_arrived(deps, arrival, redelivered) for arrival in parse_s3_event(body)]


def _arrived(deps: UploadDeps, arrival: Arrival, redelivered: bool) -> str:
    key = arrival.key
    if not is_staging_key(key):
        log.warning("ignoring an object outside the staging prefix: %s", key[:200])
        return "ignored"
    try:
        head = deps.staging.head(key)
    except NotFound:
        return "gone"  # handled by an earlier delivery (or deleted)
    try:
        upload = verify_key(deps.secret, key, head.metadata.get("requested-by", ""))
    except UploadRefused as e:
        _audit(deps, OPERATOR, OPERATOR_ROLE, "upload.refused", None, f"{key[:300]}: {e.message}")
        deps.staging.delete(key)
        return "refused"
    stores = deps.scribe.stores
    try:
        existing = stores.jobs.get(upload.job_id)
    except NotFound:
        existing = None
    if existing is not None:
        # A redelivery of this very message may follow a crash between the job's write and its message: send
        # it again then (while nobody has claimed the job). A separate duplicate event sends nothing, since a
        # second message would make a worker take the running job over.
        if redelivered and existing.status is JobStatus.QUEUED and existing.attempts == 0:
            deps.scribe.queue.send(existing.job_id)
        deps.staging.delete(key)
        return "duplicate"
    try:
        job = _accept(deps, upload, head.size, head.content_type)
    except (UploadRefused, UnsupportedInput) as e:
        return _refuse(deps, upload, e.message)
    except NotFound:
        return "gone"
    try:
        stores.jobs.add(job)
    except AlreadyExists:
        deps.staging.delete(key)
        return "duplicate"
    deps.scribe.queue.send(job.job_id)
    _audit(deps, upload.requested_by, None, "scribe.submit", upload.patient_id, f"{job.job_id} {job.codec} direct")
    deps.staging.delete(key)
    return "queued"


def _accept(deps: UploadDeps, upload: PendingUpload, size: int, content_type: str) -> Job:
    """Check the staged object (as a recording uploaded through the app is) and store it as a blob; the job to create.

    Raises:
        UploadRefused: over the size limit or not typed as audio (before it is read).
        UnsupportedInput: not readable audio, or too long (``scribe.probe_recording``).
    """
    limits = deps.scribe.limits
    if size > limits.max_audio_bytes:
        raise UploadRefused(f"The file is over {limits.max_audio_bytes // (1024 * 1024)} MB, the recordings limit.")
    if not content_type.lower().startswith(AUDIO_TYPE_PREFIX):
        raise UploadRefused(f"Only audio can be uploaded here (the file is {content_type[:60] or 'untyped'}).")
    data = deps.staging.read(upload.key, limits.max_audio_bytes)
    probe = probe_recording(deps.scribe.codec, data, limits)
    blob_key = deps.scribe.blobs.put(data, content_type=content_type[:100], prefix="audio")
    return _job(upload, blob_key=blob_key, source="direct-upload", duration_s=probe.duration_s, codec=probe.codec)


def _job(upload: PendingUpload, **fields: Any) -> Job:
    """The recording job of a direct upload (its id was chosen when the upload form was issued)."""
    return Job(
        job_id=upload.job_id,
        kind="scribe",
        patient_id=upload.patient_id,
        created_by=upload.requested_by,
        filename=upload.upload_id,
        **fields,
    )


def _refuse(deps: UploadDeps, upload: PendingUpload, reason: str) -> str:
    """Record a refused object as a failed job (the client sees why) and delete it, unprocessed."""
    job = _job(upload, blob_key="", status=JobStatus.FAILED, error=reason, source=REFUSED_SOURCE)
    with contextlib.suppress(AlreadyExists):  # an earlier delivery recorded it
        deps.scribe.stores.jobs.add(job)
    _audit(deps, upload.requested_by, None, "upload.refused", upload.patient_id, f"{upload.upload_id}: {reason}")
    deps.staging.delete(upload.key)
    return "refused"


def _audit(deps: UploadDeps, actor: str, role: str | None, action: str, patient_id: str | None, detail: str) -> None:
    """An audit line for the requester (their stored role) or the system, written by the consumer."""
    if role is None:
        try:
            role = deps.scribe.stores.users.get(actor).role.value
        except CopilotError:
            role = OPERATOR_ROLE
    deps.scribe.stores.audit.append(
        AuditEvent(actor=actor, role=role, action=action, patient_id=patient_id, detail=detail[:500])
    )
