"""Ports: the interfaces services depend on. Adapters implement them.

Every store adapter (SQLite, DynamoDB) passes the same contract tests.
Writes that must not clobber raise :class:`AlreadyExists`; versioned updates
raise :class:`ConcurrentUpdate` when ``expected_version`` is stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from backend.domain.api_tokens import ApiToken
from backend.domain.audit_chain import ChainLink
from backend.domain.changes import Change
from backend.domain.idempotency import IdempotencyRecord
from backend.domain.leases import Lease
from backend.domain.models import (
    AuditEvent,
    HistoryEntry,
    Job,
    JobStatus,
    Medication,
    MetricDay,
    Note,
    Page,
    Patient,
    Segment,
    User,
)
from backend.domain.note_content import NoteContent


class PatientStore(Protocol):
    def add(self, patient: Patient) -> None:
        """Insert; raises AlreadyExists if the patient_id is taken."""

    def get(self, patient_id: str) -> Patient:
        """Raises NotFound."""

    def update(self, patient: Patient, expected_version: int) -> Patient:
        """Store ``patient`` with version+1 if the stored version is ``expected_version``."""

    def find_by_phone(self, phone: str) -> list[Patient]: ...

    def search_name(self, fragment: str, limit: int = 20) -> list[Patient]:
        """Patients whose name contains every word of ``fragment`` as a word prefix (case-insensitive)."""

    def list_page(self, cursor: str | None = None, limit: int = 25) -> Page[Patient]:
        """All patients, newest first."""

    def count(self) -> int: ...


class UserStore(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, username: str) -> User:
        """Raises NotFound."""

    def update(self, user: User, expected_version: int) -> User: ...

    def list_all(self) -> list[User]: ...


class AuditLog(Protocol):
    """Append-only: there is no update or delete. Each row is hash-chained to the one before."""

    def append(self, event: AuditEvent) -> None:
        """Store ``event`` as the chain's next row (never overwriting a row)."""

    def chain(self) -> Iterator[ChainLink]:
        """Every stored row, oldest first in chain order, with its hashes (rows before the chain first)."""

    def chain_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest chained row as recorded apart from the rows, if the store keeps one."""

    def query(
        self,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[AuditEvent]:
        """Newest first; filter by patient or by actor (not both)."""


class NoteStore(Protocol):
    def add(self, note: Note) -> Note:
        """Insert; if the timestamp collides for that patient, bump it until free. Returns what was stored."""

    def get(self, patient_id: str, timestamp: int) -> Note: ...

    def update(self, note: Note, expected_version: int) -> Note:
        """Replace a draft at ``expected_version``; a stored signed note is refused (:class:`SignedNoteImmutable`)."""

    def list_for_patient(self, patient_id: str, cursor: str | None = None, limit: int = 50) -> Page[Note]:
        """Newest first."""

    def changed_since(self, since: int, limit: int = 100) -> list[Note]:
        """Notes created or updated at or after ``since`` (epoch ms), newest first."""

    def drafts(self, limit: int = 200) -> list[Note]:
        """Unsigned notes of every patient, however old, most recently updated first (an index, not a scan)."""


class HistoryStore(Protocol):
    def add(self, entry: HistoryEntry) -> HistoryEntry: ...

    def get(self, patient_id: str, timestamp: int) -> HistoryEntry: ...

    def list_for_patient(self, patient_id: str, cursor: str | None = None, limit: int = 50) -> Page[HistoryEntry]: ...


class MetricStore(Protocol):
    def upsert_days(self, days: Iterable[MetricDay]) -> int:
        """Insert or replace daily values (idempotent). Returns how many were written."""

    def days(
        self, patient_id: str, metric: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[MetricDay]:
        """Ascending by day; ``start``/``end`` are inclusive ISO dates."""

    def patients_with_metrics(self) -> list[str]: ...


class JobStore(Protocol):
    def add(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job: ...

    def update(self, job: Job, expected_version: int) -> Job: ...

    def list_for_patient(self, patient_id: str, limit: int = 50) -> list[Job]: ...

    def list_by_status(self, status: JobStatus, limit: int = 100) -> list[Job]: ...

    def delete(self, job_id: str) -> None: ...


class ApiTokenStore(Protocol):
    """Personal API tokens (only their digests). Revoking is a versioned update; tokens are never deleted."""

    def add(self, token: ApiToken) -> None:
        """Insert; raises AlreadyExists if the token_id or the digest is taken."""

    def get(self, token_id: str) -> ApiToken:
        """Raises NotFound."""

    def find_by_hash(self, secret_hash: str) -> ApiToken:
        """The token whose digest is ``secret_hash``; raises NotFound."""

    def update(self, token: ApiToken, expected_version: int) -> ApiToken: ...

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        """Every token (or one user's), newest first."""


class ChangeFeed(Protocol):
    """The record store's changes in order (notes, jobs, health data), for live events. Ids only grow."""

    def read_after(self, after_id: int, limit: int = 100) -> list[Change]:
        """Changes with an id above ``after_id``, oldest first, at most ``limit``."""

    def last_id(self) -> int:
        """The newest change's id (0 when empty): where a reader that wants only new changes starts."""

    def append(self, changes: list[Change]) -> int:
        """Store changes observed elsewhere (a table stream), in order; returns the newest id."""


class LeaseStore(Protocol):
    """Named leases (see :mod:`backend.domain.leases`): a run that must happen once across processes takes one."""

    def acquire(self, name: str, owner: str, now_ms: int, ttl_ms: int) -> Lease | None:
        """Hold ``name`` for ``owner`` until ``now_ms + ttl_ms`` when it is new, expired or ``owner``'s already
        (a renewal), and not done; None when another holder has it or it is done. Atomic across processes."""

    def finish(self, name: str, owner: str, now_ms: int, detail: str = "") -> bool:
        """Mark ``owner``'s lease done (kept, never taken again); False when it is no longer ``owner``'s."""

    def release(self, name: str, owner: str) -> None:
        """Give up ``owner``'s hold without finishing, so another process may take it at once."""

    def get(self, name: str) -> Lease | None: ...


@dataclass(frozen=True)
class StateWrite:
    """What a :meth:`SharedState.update` stores: ``value`` (None deletes the entry) kept until ``expires_at_ms``."""

    value: dict[str, Any] | None
    expires_at_ms: int = 0


class SharedState(Protocol):
    """Small short-lived state every process of a deployment must see alike: signed-in sessions, rate-limit
    buckets, sign-in throttles. JSON objects under a key, each kept at least until its expiry (epoch ms), after
    which it reads as absent and may be removed at any time (DynamoDB: its TTL attribute)."""

    def get(self, key: str, now_ms: int | None = None) -> dict[str, Any] | None:
        """The entry's value; with ``now_ms``, None once it has expired."""

    def update(
        self, key: str, change: Callable[[dict[str, Any] | None], tuple[StateWrite | None, Any]], now_ms: int
    ) -> Any:
        """Atomic read-modify-write across processes: ``change`` gets the current value (None when absent or
        expired) and returns (what to store, or None to leave it; a result); the result is returned.

        ``change`` must be pure: it may run more than once when another process wrote meanwhile."""

    def delete(self, key: str) -> None: ...


class IdempotencyStore(Protocol):
    """Retried requests' first answers (see :mod:`backend.domain.idempotency`), each kept until it expires."""

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        """Store pending ``record`` unless a live record has its key (atomic across processes): None when
        claimed, else the live record (pending or done)."""

    def complete(self, record: IdempotencyRecord) -> None:
        """Replace the pending record of ``record.key`` with ``record`` (done: status, body, headers)."""

    def release(self, key: str, fingerprint: str) -> None:
        """Drop a pending claim (the request failed: a retry with the key runs again)."""

    def get(self, key: str, now_ms: int) -> IdempotencyRecord | None:
        """The live record of ``key``, or None."""


@dataclass(frozen=True)
class RecordStore:
    """All record ports of one backend (SQLite or DynamoDB)."""

    patients: PatientStore
    users: UserStore
    audit: AuditLog
    notes: NoteStore
    history: HistoryStore
    metrics: MetricStore
    jobs: JobStore
    api_tokens: ApiTokenStore
    changes: ChangeFeed | None = None  # None: this backend keeps no change feed (live events are off)
    leases: LeaseStore | None = None  # None: no shared leases (a run guarded by one then runs unguarded)
    state: SharedState | None = None  # None: sessions and throttles stay in each process's memory


class BlobStore(Protocol):
    """Content-addressed bytes: the key is derived from the content (sha256)."""

    def put(self, data: bytes, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        """Store atomically; returns the key. Storing the same bytes twice returns the same key."""

    def put_stream(
        self, stream: BinaryIO, content_type: str = "application/octet-stream", prefix: str = "blob"
    ) -> str: ...

    def get(self, key: str) -> bytes:
        """Raises NotFound."""

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the content in chunks."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class QueueMessage:
    job_id: str
    receipt: str
    receive_count: int = 1


class JobQueue(Protocol):
    """At-least-once delivery; handlers must be idempotent."""

    def send(self, job_id: str) -> None: ...

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 120) -> QueueMessage | None: ...

    def ack(self, message: QueueMessage) -> None:
        """Remove the message for good."""

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        """Keep the message hidden while work goes on."""

    def release(self, message: QueueMessage) -> None:
        """Make the message visible again now (retry)."""


@dataclass(frozen=True)
class InboxMessage:
    body: str  # as sent (an S3 event notification's JSON)
    receipt: str
    receive_count: int = 1


class EventInbox(Protocol):
    """Notifications from outside (the bucket's object-created events), at least once, raw bodies."""

    def send(self, body: str) -> None: ...

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 60) -> InboxMessage | None: ...

    def ack(self, message: InboxMessage) -> None:
        """Remove the message for good."""


@dataclass(frozen=True)
class StagedObject:
    size: int
    content_type: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class PresignedPost:
    """A browser form POST: send ``fields`` (in order) then the file as the last field, ``file``."""

    url: str
    fields: dict[str, str]


class UploadStaging(Protocol):
    """Where clients upload directly (a presigned POST), before an object is checked and becomes a blob."""

    def presign(self, key: str, fields: dict[str, str], conditions: list[Any], expires_in: int) -> PresignedPost:
        """A form that lets a client POST one object at ``key`` under ``conditions``, for ``expires_in`` seconds."""

    def encryption_fields(self) -> dict[str, str]:
        """Fields every upload must carry for this store's encryption at rest (part of the policy)."""

    def head(self, key: str) -> StagedObject:
        """Size, type and metadata of a staged object; raises NotFound."""

    def read(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes (UnsupportedInput past ``max_bytes``); raises NotFound."""

    def delete(self, key: str) -> None: ...


class Transcriber(Protocol):
    name: str

    @property
    def low_accuracy(self) -> bool:
        """True for engines whose transcripts need a visible warning (the pocketsphinx fallback)."""

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """16 kHz mono float32 samples in [-1, 1]; segments with start/end seconds out."""


@runtime_checkable
class SpanTranscriber(Protocol):
    """Optional capability of a ``Transcriber``: decode a stretch of a recording again with given hot words."""

    def transcribe_span(self, samples: NDArray[np.float32], start: float, end: float, hotwords: str) -> str:
        """Text of ``[start, end)`` seconds of ``samples`` decoded with ``hotwords`` as the prompt."""


@runtime_checkable
class PartialTranscriber(Protocol):
    """Optional capability of a ``Transcriber``: a fast, rough pass over a few seconds (live captions)."""

    def transcribe_partial(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Segments of a short window of 16 kHz mono samples, decoded for speed rather than accuracy."""


class LiveRecording(Protocol):
    """A bounded buffer of live microphone audio, fed frame by frame from the browser's WebRTC track."""

    @property
    def duration_s(self) -> float:
        """Seconds of audio kept so far."""

    @property
    def full(self) -> bool:
        """True once the length limit is reached (later audio is dropped)."""

    def push_frame(self, frame: Any) -> None:
        """Append one WebRTC audio frame (any rate or layout)."""

    def finish(self) -> None:
        """The track ended: flush what is buffered."""

    def level_dbfs(self) -> float:
        """The current level for a meter (digital silence: ``LiveAudio.floor_dbfs``)."""

    def samples(self) -> NDArray[np.float32]:
        """The whole recording as 16 kHz mono float32."""

    def to_wav(self) -> bytes:
        """The whole recording as a 16-bit mono 16 kHz WAV file."""


class LiveCaptions(Protocol):
    """Rough captions of the last seconds of a live recording, refreshed in the background."""

    text: str
    error: str | None

    def start(self) -> None: ...

    def stop(self) -> None: ...


class LiveAudio(Protocol):
    """Live capture: recordings fed from the browser and their rough captions."""

    floor_dbfs: float
    max_seconds: float

    def recording(self, max_seconds: float) -> LiveRecording: ...

    def captions(self, recording: LiveRecording, get_transcriber: Callable[[], Transcriber]) -> LiveCaptions:
        """Captions over the app's transcriber, resolved on first use; an engine without a fast partial path
        (:class:`PartialTranscriber`) gives captions whose ``error`` says so."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: tuple[tuple[float, float], ...]  # polygon in pixel coordinates of its page
    score: float
    page: int = 0


class OcrEngine(Protocol):
    name: str

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]: ...


@dataclass(frozen=True)
class AudioProbe:
    duration_s: float | None
    codec: str
    sample_rate: int
    channels: int


class AudioCodec(Protocol):
    """Validates and decodes recordings (PyAV in the default build)."""

    def probe(self, data: bytes, max_bytes: int) -> AudioProbe:
        """Header check only; raises UnsupportedInput for empty, non-audio, damaged or oversized files."""

    def decode(self, data: bytes, max_seconds: float, max_bytes: int) -> tuple[NDArray[np.float32], list[str]]:
        """16 kHz mono float32 samples and warnings (e.g. truncated file)."""

    def is_silent(self, samples: NDArray[np.float32]) -> bool: ...


class Drafter(Protocol):
    """Note drafting: a transcript's segments -> the draft's content (the offline rules or an LLM)."""

    def __call__(self, segments: Sequence[Segment], /) -> NoteContent: ...


class PassageLike(Protocol):
    """What an answering engine reads of a retrieved passage."""

    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def text(self) -> str: ...


class Answerer(Protocol):
    """The Ask service's LLM: ``(question, passages) -> (text, cited passage ids)``."""

    def __call__(self, question: str, passages: Sequence[PassageLike], /) -> tuple[str, list[str]]: ...


class MedicationExtractor(Protocol):
    """An LLM reading a document's text: ``text -> (medications, items not printed in the text)``."""

    def __call__(self, text: str, /) -> tuple[list[Medication], list[str]]: ...


@runtime_checkable
class Named(Protocol):
    """An engine that names itself (shown on the providers page and in the note's provenance)."""

    name: str


@runtime_checkable
class Checkable(Protocol):
    """Optional capability of an engine: a connection test for the providers page."""

    def check(self) -> str:
        """A cheap authenticated request that sends no patient data; the message says what answered.

        Raises:
            ProviderUnavailable: the provider cannot be reached or refuses the credentials.
        """


@runtime_checkable
class EngineStatus(Protocol):
    """Capability of a cloud-first engine with the offline engine as fallback (``backend.adapters.fallback``).

    The ``last_*`` attributes describe the process's most recent call (for the providers page); ``call_fallback``
    answers for the calling thread's last call, so a job or a session reads its own call's banner even while
    other threads use the same engine.
    """

    last_engine: str | None  # the engine that served the most recent call
    last_error: str | None  # the most recent cloud failure
    last_fallback: str | None  # the banner of the most recent hand-over (None: the cloud engine served it)

    def call_fallback(self) -> str | None:
        """The banner of the last call made on this thread (None: the cloud engine served it)."""


def call_fallback(engine: object) -> str | None:
    """The banner of the hand-over to the offline engine in this thread's last call, if ``engine`` had one."""
    return engine.call_fallback() if isinstance(engine, EngineStatus) else None
