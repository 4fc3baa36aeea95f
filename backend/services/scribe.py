"""The durable scribe pipeline: recording -> blob -> job -> transcript -> draft note.

Audio is stored before any processing. One thing keeps a running job alive: its queue message, which the
worker keeps hidden (``backend.worker.loop``'s heartbeat) while it works. A message comes back only when its
worker stopped extending it (died, hung, lost the queue), so a delivery of a job that is mid-way takes it over.
The job row is the fence: each claim is a versioned write that counts an attempt, and a worker writes only
while the row still carries its attempt, so a worker that was taken over cannot change the job or add a note.
At-least-once delivery never produces two notes: the handler first looks for a note already made for the job.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from backend.domain.engine_words import hand_overs
from backend.domain.errors import ConcurrentUpdate, CopilotError, NotFound, UnsupportedInput, ValidationFailed
from backend.domain.limits import DEFAULT_LIMITS, Limits
from backend.domain.models import Job, JobStatus, Note, SpeechEngine
from backend.domain.note_content import Provenance
from backend.ports import AudioCodec, AudioProbe, BlobStore, Drafter, JobQueue, RecordStore, Transcriber, call_fallback
from backend.services.access import Permission, Principal, record, require
from backend.services.job_submit import enqueue_stored
from backend.services.retention import release_blob
from backend.services.scribe_pipeline import NO_SPEECH, RecordingCheck, draft_transcript, transcribe_recording

log = logging.getLogger(__name__)
IN_PROGRESS = (JobStatus.QUEUED, JobStatus.TRANSCRIBING, JobStatus.DRAFTING)
RUNNING = (JobStatus.TRANSCRIBING, JobStatus.DRAFTING)


class JobSuperseded(Exception):
    """A later delivery took this job over: this worker's attempt no longer owns the job row and writes nothing."""


@dataclass(frozen=True)
class ScribeDeps:
    """What the pipeline needs; built by bootstrap (``App.scribe_deps()``)."""

    stores: RecordStore
    blobs: BlobStore
    queue: JobQueue
    codec: AudioCodec
    transcriber: Callable[[], Transcriber]  # resolved lazily so submitting never waits for the model
    draft: Drafter
    check_recording: RecordingCheck | None = None  # music/tones, another language (the engine's check)
    limits: Limits = DEFAULT_LIMITS


def submit_recording(
    deps: ScribeDeps, principal: Principal, patient_id: str, data: bytes, filename: str, source: str = "upload"
) -> Job:
    """Validate the recording, store it, create a queued job. Bad bytes are refused before anything is stored."""
    require(principal, Permission.RECORD)
    deps.stores.patients.get(patient_id)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext and ext not in deps.limits.audio_extensions:
        raise UnsupportedInput(
            f"“{filename[:80]}” is not an audio file. Upload {', '.join(deps.limits.audio_extensions)}."
        )
    probe = probe_recording(deps.codec, data, deps.limits)
    key = deps.blobs.put(data, content_type=f"audio/{ext or 'wav'}", prefix="audio")
    job = Job(
        job_id=f"JOB_{secrets.token_hex(8)}",
        kind="scribe",
        patient_id=patient_id,
        blob_key=key,
        created_by=principal.username,
        filename=filename[:200],
        source=source,
        duration_s=probe.duration_s,
        codec=probe.codec,
    )
    enqueue_stored(deps.stores, deps.blobs, deps.queue, job)
    record(
        deps.stores.audit,
        principal,
        "scribe.submit",
        patient_id,
        f"{job.job_id} {probe.codec} {probe.duration_s or 0:.0f}s",
    )
    return job


def probe_recording(codec: AudioCodec, data: bytes, limits: Limits) -> AudioProbe:
    """The recording's codec and length, checked against the limits: the one rule for every way audio arrives.

    Raises:
        UnsupportedInput: not audio the codec can read, over the size limit, or longer than the length limit.
    """
    probe = codec.probe(data, limits.max_audio_bytes)
    if probe.duration_s is not None and probe.duration_s > limits.max_audio_seconds:
        raise UnsupportedInput(
            f"This recording lasts {probe.duration_s / 60:.0f} minutes; the limit is "
            f"{limits.max_audio_seconds / 60:.0f} minutes. Split it and upload the parts."
        )
    return probe


def process_job(deps: ScribeDeps, job_id: str) -> None:
    """Worker handler (idempotent). Expected failures end the job as ``failed`` with the reason; others are retried.

    A job whose previous delivery stopped mid-way is taken over; one taken over from this call ends it quietly.
    """

    def work(job: Job) -> None:
        note = _existing_note(deps.stores, job) or _run(deps, job)
        _finish(deps.stores, job, status=JobStatus.READY, error=None, note_ts=note.timestamp)

    run_job_attempt(
        deps.stores,
        job_id,
        deps.limits.job_max_attempts,
        work,
        give_up="Processing failed {attempts} times ({error}). Retry later or contact support.",
    )


def run_job_attempt(
    stores: RecordStore, job_id: str, max_attempts: int, work: Callable[[Job], None], *, give_up: str
) -> None:
    """One delivery of a job, whatever its kind: claim it, ``work`` on it, and settle how it ended.

    A job taken over by a later delivery stops quietly; an expected failure (:class:`CopilotError`) ends the job
    as ``failed`` with its message; anything else is retried (re-raised, so the worker makes the message visible
    again) until the ``max_attempts``-th attempt, which fails the job with ``give_up`` (``{attempts}`` and
    ``{error}`` filled in).
    """
    try:
        job = _claim(stores, job_id, max_attempts)
    except NotFound:
        log.info("job %s no longer exists (deleted); dropping the message", job_id)
        return
    if job is None:
        return
    try:
        work(job)
    except JobSuperseded:
        log.info("job %s was taken over by a later delivery; attempt %d stops", job_id, job.attempts)
    except CopilotError as e:
        _finish_unless_superseded(stores, job, status=JobStatus.FAILED, error=e.message)
    except Exception as e:
        if job.attempts >= max_attempts:
            error = give_up.format(attempts=job.attempts, error=type(e).__name__)
            _finish_unless_superseded(stores, job, status=JobStatus.FAILED, error=error)
            return
        if _finish_unless_superseded(
            stores, job, status=JobStatus.QUEUED, error=f"Attempt {job.attempts} failed; retrying."
        ):
            raise  # the worker makes the message visible again: the retry


def _run(deps: ScribeDeps, job: Job) -> Note:
    samples, warnings = deps.codec.decode(
        deps.blobs.get(job.blob_key), deps.limits.max_audio_seconds, deps.limits.max_audio_bytes
    )
    if deps.codec.is_silent(samples):
        raise ValidationFailed(NO_SPEECH)
    transcriber: Transcriber = deps.transcriber()
    heard = transcribe_recording(samples, transcriber, deps.check_recording)
    job = _write(deps.stores, job, {"status": JobStatus.DRAFTING})
    result = draft_transcript(heard.segments, deps.draft, heard.recoveries)
    warnings = [*warnings, *heard.warnings, *result.warnings]
    provenance = _recording_provenance(result.content.provenance, transcriber, warnings)
    note = Note(
        patient_id=job.patient_id,
        author=job.created_by,
        job_id=job.job_id,
        audio_key=job.blob_key,
        speech=speech_engine(transcriber),
    ).with_content(result.content.model_copy(update={"provenance": provenance}), transcript=result.segments)
    _write(deps.stores, job, {})  # still ours? (a worker taken over while drafting adds no note)
    return _existing_note(deps.stores, job) or deps.stores.notes.add(note)


def _recording_provenance(drafted: Provenance, transcriber: Transcriber, warnings: list[str]) -> Provenance:
    """The draft's provenance with what the clinician must know about the recording and its transcription."""
    update: dict[str, Any] = {}
    if warnings:
        update["audio_warnings"] = [*drafted.audio_warnings, *warnings]
    stt_fallback = call_fallback(transcriber)  # cloud speech failed: the offline engine transcribed
    if stt_fallback:
        update["engine_fallback"] = f"{stt_fallback} {drafted.engine_fallback or ''}".strip()
    if transcriber.low_accuracy:
        update["low_accuracy_engine"] = transcriber.name
    return drafted.model_copy(update=update)


@runtime_checkable
class _ServedBy(Protocol):
    """A cloud-first engine that tells which engine served this thread's last call (``adapters.fallback``)."""

    def call_engine(self) -> str | None: ...


def speech_engine(transcriber: Transcriber) -> SpeechEngine:
    """The engine that transcribed this thread's last call of ``transcriber``, kept on the note it makes.

    A cloud-first transcriber names the engine that served its last call on this thread; when that is not the
    configured (cloud) engine, the configured one is what it stood in for, and the hand-over's reason is the
    one its banner gave for this very call.
    """
    name = transcriber.name
    served = (transcriber.call_engine() if isinstance(transcriber, _ServedBy) else None) or name
    if served == name:
        return SpeechEngine(engine=name, low_accuracy=transcriber.low_accuracy)
    reason = next((h.reason for h in hand_overs(call_fallback(transcriber)) if h.kind == "Transcribed"), None)
    return SpeechEngine(engine=served, stood_in_for=name, reason=reason, low_accuracy=transcriber.low_accuracy)


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


def _claim(stores: RecordStore, job_id: str, max_attempts: int) -> Job | None:
    """Take the job for this delivery (counting an attempt), or None if it is finished or another delivery won.

    A job found mid-way was left by a worker whose message came back, i.e. that stopped extending it: this
    delivery takes over. After ``max_attempts`` attempts that each stopped mid-way (a worker killed every time,
    e.g. by running out of memory on this recording) the job fails instead of looping.
    """
    job = stores.jobs.get(job_id)
    if job.status in (JobStatus.READY, JobStatus.FAILED):
        return None
    if job.status in RUNNING:
        if job.attempts >= max_attempts:
            error = f"Processing stopped {job.attempts} times before finishing. Retry later or contact support."
            _finish_unless_superseded(stores, job, status=JobStatus.FAILED, error=error)
            return None
        log.warning("job %s: attempt %d stopped mid-way (%s); taking it over", job_id, job.attempts, job.status.value)
    try:
        return stores.jobs.update(
            job.model_copy(update={"status": JobStatus.TRANSCRIBING, "attempts": job.attempts + 1}), job.version
        )
    except ConcurrentUpdate:
        return None  # another delivery claimed it first


def _write(stores: RecordStore, mine: Job, change: dict[str, Any]) -> Job:
    """Apply ``change`` to the job if it is still running under this worker's attempt, else raise JobSuperseded.

    The attempt number is the fence: a takeover claim counts a new attempt, so the old worker's writes stop.
    """
    for _ in range(5):
        job = stores.jobs.get(mine.job_id)
        if job.attempts != mine.attempts or job.status not in RUNNING:
            raise JobSuperseded(f"job {mine.job_id} moved on from attempt {mine.attempts}")
        if not change:
            return job
        try:
            return stores.jobs.update(job.model_copy(update=change), job.version)
        except ConcurrentUpdate:
            continue  # re-read: a takeover now shows as a new attempt
    raise ConcurrentUpdate()


def store_result(stores: RecordStore, blobs: BlobStore, job: Job, result: bytes, prefix: str, **change: Any) -> Job:
    """Keep a finished job's result (JSON) as a blob and mark the job ready, if this attempt still holds it.

    Documents and health-data imports end this way (their reading or report is read back by the submitter);
    ``change`` adds fields to the job row (an import releases its file: ``blob_key=""``).

    Raises:
        JobSuperseded: a later delivery took the job over (the blob stays unnamed, for ``blobs orphans``).
    """
    key = blobs.put(result, content_type="application/json", prefix=prefix)
    return _write(stores, job, {"status": JobStatus.READY, "error": None, "result_key": key, **change})


def _finish(stores: RecordStore, job: Job, *, status: JobStatus, error: str | None, note_ts: int | None = None) -> None:
    change: dict[str, Any] = {"status": status, "error": error}
    if note_ts is not None:
        change["result_note_ts"] = note_ts
    _write(stores, job, change)


def _finish_unless_superseded(stores: RecordStore, job: Job, *, status: JobStatus, error: str | None) -> bool:
    """:func:`_finish`, or False when another delivery has taken the job over (its outcome is then theirs)."""
    try:
        _finish(stores, job, status=status, error=error)
    except JobSuperseded:
        log.info("job %s was taken over; attempt %d leaves its outcome to the new holder", job.job_id, job.attempts)
        return False
    return True


def retry_job(deps: ScribeDeps, principal: Principal, job_id: str) -> Job:
    """Put a failed job back in the queue (its audio is still stored)."""
    job = _failed_job(deps, principal, job_id, "Only failed jobs can be retried.")
    job = deps.stores.jobs.update(
        job.model_copy(update={"status": JobStatus.QUEUED, "attempts": 0, "error": None}), job.version
    )
    deps.queue.send(job_id)
    record(deps.stores.audit, principal, "scribe.retry", job.patient_id, job_id)
    return job


def delete_job(deps: ScribeDeps, principal: Principal, job_id: str) -> None:
    """Remove a failed job and its audio, unless any other record (a note, a job, another patient's) names it."""
    job = _failed_job(
        deps, principal, job_id, "Only failed jobs can be deleted; finished recordings belong to their note."
    )
    deps.stores.jobs.delete(job_id)
    release_blob(deps.stores, deps.blobs, job.blob_key)
    record(deps.stores.audit, principal, "scribe.delete_job", job.patient_id, job_id)


def _failed_job(deps: ScribeDeps, principal: Principal, job_id: str, refusal: str) -> Job:
    """The job, for a user who may record, if it failed; otherwise ValidationFailed(``refusal``)."""
    require(principal, Permission.RECORD)
    job = deps.stores.jobs.get(job_id)
    if job.status is not JobStatus.FAILED:
        raise ValidationFailed(refusal)
    return job


def list_jobs(deps: ScribeDeps, principal: Principal, patient_id: str) -> list[Job]:
    require(principal, Permission.READ_PATIENTS)
    # Recordings only: a document job is its reader's working state (``backend.services.document_jobs``).
    return [j for j in deps.stores.jobs.list_for_patient(patient_id) if j.kind not in ("document", "metrics_import")]


def resume_interrupted(deps: ScribeDeps) -> int:
    """At start-up of a single-process (local) app: re-send jobs left queued or mid-way.

    Their old messages are hidden until their visibility timeout; a fresh message gets them going now (a job
    left mid-way is taken over, see :func:`process_job`). Idempotent handling makes the duplicates harmless.
    """
    count = 0
    for status in IN_PROGRESS:
        for job in deps.stores.jobs.list_by_status(status, limit=1000):
            deps.queue.send(job.job_id)
            count += 1
    return count
