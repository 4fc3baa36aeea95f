"""The app's limits in one place: sizes, lengths, accepted file types and the job worker's timings.

``Settings.limits()`` builds the one :class:`Limits` of a process from the environment (the README's
configuration table names the variable behind each field); bootstrap hands it to the services, the pages
and the worker. The defaults here are the only place each number and each list is written.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024
# File name extensions offered by the upload pickers. The bytes decide what a file is (audio containers in
# backend.adapters.audio.formats, document kinds in backend.formats.documents); these only keep the pickers
# and the first refusal message in step with what those readers accept.
AUDIO_EXTENSIONS = ("aac", "flac", "m4a", "mp3", "mp4", "oga", "ogg", "opus", "wav", "webm")
# HEIC is offered so that an iPhone photo gets the message saying how to send it, not a silent refusal.
DOCUMENT_EXTENSIONS = ("heic", "jpeg", "jpg", "pdf", "png", "tif", "tiff", "webp")
IMPORT_EXTENSIONS = ("csv", "json", "xml", "zip")  # health data: CSV, Ultrahuman JSON, Apple Health XML or zip


@dataclass(frozen=True)
class Limits:
    """Every limit the services, pages, API and worker enforce (one frozen object per process)."""

    max_audio_seconds: float = 60 * 60  # COPILOT_MAX_AUDIO_MINUTES
    max_audio_bytes: int = 200 * MB  # COPILOT_MAX_UPLOAD_MB
    max_import_bytes: int = 200 * MB  # COPILOT_MAX_UPLOAD_MB (health data files sent to the REST API)
    max_document_pages: int = 20  # COPILOT_MAX_PDF_PAGES
    max_document_bytes: int = 25 * MB  # COPILOT_MAX_DOCUMENT_MB
    job_max_attempts: int = 3  # COPILOT_JOB_MAX_ATTEMPTS: deliveries of a job that each stopped mid-way
    worker_heartbeat_seconds: float = 30.0  # COPILOT_WORKER_HEARTBEAT_SECONDS: between extensions of a message
    worker_visibility_seconds: int = 120  # COPILOT_WORKER_VISIBILITY_SECONDS: a message stays hidden this long
    worker_wait_seconds: float = 10.0  # COPILOT_WORKER_WAIT_SECONDS: long poll of `python -m backend.worker`
    local_worker_wait_seconds: float = 1.0  # the in-process worker's poll (local mode), so it stops promptly
    audio_extensions: tuple[str, ...] = AUDIO_EXTENSIONS
    document_extensions: tuple[str, ...] = DOCUMENT_EXTENSIONS
    import_extensions: tuple[str, ...] = IMPORT_EXTENSIONS

    def __post_init__(self) -> None:
        # A heartbeat as long as the visibility would let a second worker take a job that is still running.
        if self.worker_heartbeat_seconds >= self.worker_visibility_seconds:
            raise ValueError("the worker heartbeat must be shorter than the queue visibility timeout")


DEFAULT_LIMITS = Limits()
