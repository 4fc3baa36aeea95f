"""The durable scribe pipeline: recording -> blob -> job -> transcript -> draft note.

Audio is stored before any processing. A job is claimed with a versioned write
and a lease, so at-least-once delivery never produces two notes: the handler
first looks for a note already made for the job.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.domain.errors import ConcurrentUpdate, CopilotError, NotFound, UnsupportedInput, ValidationFailed
from backend.domain.models import Job, JobStatus, Note, now_ms
from backend.ports import AudioCodec, BlobStore, JobQueue, RecordStore, Transcriber, call_fallback
from backend.services.access import Permission, Principal, record, require
from backend.services.scribe_pipeline import NO_SPEECH, RecordingCheck, draft_transcript, transcribe_recording

log = logging.getLogger(__name__)
LEASE_SECONDS = 90.0  # a worker that died mid-job loses its claim this long after its last renewal
AUDIO_TYPES = {"wav", "mp3", "m4a", "aac", "ogg", "oga", "opus", "webm", "flac", "mp4"}
IN_PROGRESS = (JobStatus.QUEUED, JobStatus.TRANSCRIBING, JobStatus.DRAFTING)


class JobBusy(Exception):
    """Another live worker holds this job: the worker leaves the message to reappear later instead of acking it."""

    retry_later = True


@dataclass(frozen=True)
class ScribeLimits:
    max_seconds: float = 3600
    max_bytes: int = 200 * 1024 * 1024
    max_attempts: int = 3
    lease_seconds: float = LEASE_SECONDS  # renewed every third of it while the job runs


@dataclass(frozen=True)
class ScribeDeps:
    """What the pipeline needs; built by bootstrap (``App.scribe_deps()``)."""

    stores: RecordStore
    blobs: BlobStore
    queue: JobQueue
    codec: AudioCodec
    transcriber: Any  # () -> Transcriber, resolved lazily so submitting never waits for the model
    draft: Any  # (segments) -> (sections, fields, medications)
    check_recording: RecordingCheck | None = None  # music/tones, another language (the engine's check)
    limits: ScribeLimits = ScribeLimits()


def submit_recording(
    deps: ScribeDeps, principal: Principal, patient_id: str, data: bytes, filename: str, source: str = "upload"
) -> Job:
    """Validate the recording, store it, create a queued job. Bad bytes are refused before anything is stored."""
    require(principal, Permission.RECORD)
    deps.stores.patients.get(patient_id)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext and ext not in AUDIO_TYPES:
        raise UnsupportedInput(f"“{filename[:80]}” is not an audio file. Upload {', '.join(sorted(AUDIO_TYPES))}.")
    probe = deps.codec.probe(data, deps.limits.max_bytes)
    if probe.duration_s is not None and probe.duration_s > deps.limits.max_seconds:
        raise UnsupportedInput(
            f"This recording lasts {probe.duration_s / 60:.0f} minutes; the limit is {deps.limits.max_seconds / 60:.0f} minutes. Split it and upload the parts."
        )
    key = deps.blobs.put(data, content_type=f"audio/{ext or 'wav'}", prefix="audio")
    job = Job(
        job_id=f"JOB_{secrets.token_hex(8)}",
        kind="scribe",
        patient_id=patient_id,
        blob_key=key,
        created_by=principal.username,
        params={"filename": filename[:200], "source": source, "duration_s": probe.duration_s, "codec": probe.codec},
    )
    deps.stores.jobs.add(job)
    deps.queue.send(job.job_id)
    record(
        deps.stores.audit,
        principal,
        "scribe.submit",
        patient_id,
        f"{job.job_id} {probe.codec} {probe.duration_s or 0:.0f}s",
    )
    return job


def process_job(deps: ScribeDeps, job_id: str) -> None:
    """Worker handler (idempotent). Expected failures end the job as ``failed`` with the reason; others are retried."""
    try:
        job = _claim(deps.stores, job_id, deps.limits.lease_seconds)
    except NotFound:
        log.info("job %s no longer exists (deleted); dropping the message", job_id)
        return
    if job is None:
        return
    try:
        with LeaseKeeper(deps.stores, job_id, deps.limits.lease_seconds):
            note = _existing_note(deps.stores, job) or _run(deps, job)
    except CopilotError as e:
        _finish(deps.stores, job_id, status=JobStatus.FAILED, error=e.message)
        return
    except Exception as e:
        current = deps.stores.jobs.get(job_id)
        if current.attempts >= deps.limits.max_attempts:
            _finish(
                deps.stores,
                job_id,
                status=JobStatus.FAILED,
                error=f"Processing failed {current.attempts} times ({type(e).__name__}). Retry later or contact support.",
            )
            return
        _finish(
            deps.stores, job_id, status=JobStatus.QUEUED, error=f"Attempt {current.attempts} failed; retrying.", lease=0
        )
        raise
    _finish(deps.stores, job_id, status=JobStatus.READY, error=None, note_ts=note.timestamp)


def _run(deps: ScribeDeps, job: Job) -> Note:
    samples, warnings = deps.codec.decode(deps.blobs.get(job.blob_key), deps.limits.max_seconds, deps.limits.max_bytes)
    if deps.codec.is_silent(samples):
        raise ValidationFailed(NO_SPEECH)
    transcriber: Transcriber = deps.transcriber()
    heard = transcribe_recording(samples, transcriber, deps.check_recording)
    job = _set_status(deps.stores, job.job_id, JobStatus.DRAFTING)
    result = draft_transcript(heard.segments, deps.draft, heard.recoveries)
    fields = result.fields
    warnings = [*warnings, *heard.warnings, *result.warnings]
    if warnings:
        fields = {**fields, "audio_warnings": warnings}
    stt_fallback = call_fallback(transcriber)  # cloud speech failed: the offline engine transcribed
    if stt_fallback:
        fields = {**fields, "engine_fallback": f"{stt_fallback} {fields.get('engine_fallback') or ''}".strip()}
    if getattr(transcriber, "low_accuracy", False):
        fields = {**fields, "low_accuracy_engine": transcriber.name}
    unsupported = [str(u) for u in fields.pop("unsupported", [])] if isinstance(fields, dict) else []
    note = Note(
        patient_id=job.patient_id,
        unsupported=unsupported,
        author=job.created_by,
        job_id=job.job_id,
        audio_key=job.blob_key,
        transcript=result.segments,
        sections=result.sections,
        fields=fields,
        medications=result.medications,
    )
    return deps.stores.notes.add(note)


def _existing_note(stores: RecordStore, job: Job) -> Note | None:
    """The note a previous delivery of this job already made (crash between note and job update)."""
    if job.result_note_ts is not None:
        try:
            return stores.notes.get(job.patient_id, job.result_note_ts)
        except NotFound:
            pass
    for note in stores.notes.list_for_patient(job.patient_id, limit=50).items:
        if note.job_id == job.job_id:
            return note
    return None


def _claim(stores: RecordStore, job_id: str, lease_seconds: float = LEASE_SECONDS) -> Job | None:
    """Take the job for this worker, or None if it is done, failed, or leased by a live worker."""
    job = stores.jobs.get(job_id)
    now = now_ms()
    if job.status in (JobStatus.READY, JobStatus.FAILED):
        return None
    holder = str(job.params.get("worker", ""))
    if job.status is not JobStatus.QUEUED and int(job.params.get("lease_until", 0)) > now and not _holder_gone(holder):
        # Not acked: if the holder dies, this delivery (or the holder's own message) retries after the visibility timeout.
        raise JobBusy(f"job {job_id} is held by worker {holder or 'unknown'}")
    params = {**job.params, "lease_until": now + int(lease_seconds * 1000), "worker": _worker_id()}
    try:
        return stores.jobs.update(
            job.model_copy(update={"status": JobStatus.TRANSCRIBING, "attempts": job.attempts + 1, "params": params}),
            job.version,
        )
    except ConcurrentUpdate:
        return None  # another worker claimed it first


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_gone(holder: str) -> bool:
    """True when the lease holder was a process of this machine that no longer exists (killed mid-job).

    Holders on other machines (or unknown) count as alive until their lease runs out.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseKeeper:
    """Renews this worker's lease on a job every third of the lease while the job runs.

    A worker that dies stops renewing, so another worker may take the job ``lease_seconds`` after the last
    renewal — however long a healthy job takes (an hour of audio is several minutes of transcription).
    """

    def __init__(self, stores: RecordStore, job_id: str, lease_seconds: float) -> None:
        self._stores, self._job_id, self._lease_ms = stores, job_id, int(lease_seconds * 1000)
        self._every = max(0.05, lease_seconds / 3)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{job_id}", daemon=True)
        self.renewals = 0

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.renew()
            except CopilotError as e:  # the store is briefly unreachable: try again next tick
                log.warning("lease renewal for %s failed: %s", self._job_id, e.message)

    def renew(self) -> bool:
        """Push ``lease_until`` forward if this worker still holds the running job; False otherwise."""
        job = self._stores.jobs.get(self._job_id)
        if job.status not in (JobStatus.TRANSCRIBING, JobStatus.DRAFTING) or job.params.get("worker") != _worker_id():
            return False
        params = {**job.params, "lease_until": now_ms() + self._lease_ms}
        try:
            self._stores.jobs.update(job.model_copy(update={"params": params}), job.version)
        except ConcurrentUpdate:
            return False  # a status change won the race; the next tick renews
        self.renewals += 1
        return True


def _update_job(stores: RecordStore, job_id: str, update: Callable[[Job], dict[str, Any]]) -> Job:
    """Apply ``update`` to the latest version of the job, re-reading on a lost race (e.g. with a lease renewal)."""
    for _ in range(5):
        job = stores.jobs.get(job_id)
        try:
            return stores.jobs.update(job.model_copy(update=update(job)), job.version)
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate()


def _set_status(stores: RecordStore, job_id: str, status: JobStatus) -> Job:
    return _update_job(stores, job_id, lambda job: {"status": status})


def _finish(
    stores: RecordStore,
    job_id: str,
    *,
    status: JobStatus,
    error: str | None,
    note_ts: int | None = None,
    lease: int | None = None,
) -> None:
    def change(job: Job) -> dict[str, Any]:
        update: dict[str, Any] = {"status": status, "error": error}
        if note_ts is not None:
            update["result_note_ts"] = note_ts
        if lease is not None:
            update["params"] = {**job.params, "lease_until": lease}
        return update

    _update_job(stores, job_id, change)


def retry_job(deps: ScribeDeps, principal: Principal, job_id: str) -> Job:
    """Put a failed job back in the queue (its audio is still stored)."""
    require(principal, Permission.RECORD)
    job = deps.stores.jobs.get(job_id)
    if job.status is not JobStatus.FAILED:
        raise ValidationFailed("Only failed jobs can be retried.")
    job = deps.stores.jobs.update(
        job.model_copy(update={"status": JobStatus.QUEUED, "attempts": 0, "error": None}), job.version
    )
    deps.queue.send(job_id)
    record(deps.stores.audit, principal, "scribe.retry", job.patient_id, job_id)
    return job


def delete_job(deps: ScribeDeps, principal: Principal, job_id: str) -> None:
    """Remove a failed job and its audio (unless another job of the patient uses the same audio)."""
    require(principal, Permission.RECORD)
    job = deps.stores.jobs.get(job_id)
    if job.status is not JobStatus.FAILED:
        raise ValidationFailed("Only failed jobs can be deleted; finished recordings belong to their note.")
    deps.stores.jobs.delete(job_id)
    others = [j for j in deps.stores.jobs.list_for_patient(job.patient_id, limit=200) if j.blob_key == job.blob_key]
    if not others:
        deps.blobs.delete(job.blob_key)
    record(deps.stores.audit, principal, "scribe.delete_job", job.patient_id, job_id)


def list_jobs(deps: ScribeDeps, principal: Principal, patient_id: str) -> list[Job]:
    require(principal, Permission.READ_PATIENTS)
    return deps.stores.jobs.list_for_patient(patient_id)


def resume_interrupted(deps: ScribeDeps, single_process: bool = True) -> int:
    """At start-up: re-send jobs left queued or mid-way (idempotent handling makes duplicates harmless).

    With ``single_process`` (local mode) nobody else can hold a lease, so leases of jobs left mid-way are cleared.
    """
    count = 0
    for status in IN_PROGRESS:
        for job in deps.stores.jobs.list_by_status(status, limit=1000):
            if single_process and status is not JobStatus.QUEUED:
                _finish(deps.stores, job.job_id, status=JobStatus.QUEUED, error=None, lease=0)
            deps.queue.send(job.job_id)
            count += 1
    return count
