"""Entities of the record store (pydantic v2). Times are epoch milliseconds (UTC)."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# Medication lines are note content and document content alike: they are defined with the note's content and
# re-exported here, where the rest of the project imports them from.
from backend.domain.note_content import Evidence as Evidence
from backend.domain.note_content import Medication as Medication
from backend.domain.note_content import NoteContent


def now_ms() -> int:
    """Current time as epoch milliseconds."""
    return int(time.time() * 1000)


class Role(StrEnum):
    NURSE = "nurse"
    DOCTOR = "doctor"
    ADMIN = "admin"


class Record(BaseModel):
    """Base for stored entities: ``version`` drives optimistic concurrency."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1


class Patient(Record):
    patient_id: str
    name: str
    phone: str | None = None  # E.164
    dob: str | None = None  # ISO date
    sex: str | None = None  # "female" | "male" | "other" | None
    external_id: str | None = None
    abha_number: str | None = None  # ABHA number as 91-1234-5678-9012 (``backend.domain.abha``)
    abha_address: str | None = None  # ABHA address, e.g. name@abdm (name@sbx in the ABDM sandbox)
    created_at: int = Field(default_factory=now_ms)
    created_by: str = ""
    updated_at: int = Field(default_factory=now_ms)
    ultrahuman_email: str | None = None  # the linked Ultrahuman account: synced daily (services/wearable_sync.py)


class User(Record):
    username: str
    role: Role
    password_hash: str
    display_name: str = ""
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: int = 0
    created_at: int = Field(default_factory=now_ms)
    note_style: str | None = None  # the note style drafts open in ("full", "brief", a clinic template); None: full
    # The single sign-on identity bound at the account's first SSO sign-in (issuer and subject of the ID token);
    # None until then. Later SSO sign-ins must present the same pair, not just the same e-mail address.
    sso_issuer: str | None = None
    sso_subject: str | None = None


class AuditEvent(BaseModel):
    """One append-only line of the audit trail."""

    at: int = Field(default_factory=now_ms)
    actor: str
    role: str
    action: str  # e.g. "patient.read", "note.sign"
    patient_id: str | None = None
    detail: str = ""


class Word(BaseModel):
    """One recognised word with its times in seconds (engines that give word timing)."""

    start: float
    end: float
    text: str


class Segment(BaseModel):
    """A transcript segment with its times in seconds.

    ``speaker`` is the role of who spoke: ``clinician``, ``patient`` or ``other`` (set by the engine when it
    labels speakers, by offline role assignment otherwise, or by the clinician); ``None`` when unknown.
    ``role_source`` says which: ``engine`` | ``voice`` | ``wording`` | ``clinician`` | ``tag``.
    """

    id: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    role_source: str | None = None
    # Working data of the pipeline (role assignment splits segments at speaker changes); not stored.
    words: list[Word] = Field(default_factory=list, exclude=True)


class NoteStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class SpeechEngine(BaseModel):
    """The speech engine that transcribed a note's recording, kept with the note when the note is made.

    The review, the timeline and the exports show it from here: a fallback banner is prose for the moment it
    happened, not a record to read back.
    """

    engine: str  # as it names itself: "whisper-faster-whisper-base", "aws-transcribe-medical", "pocketsphinx"
    stood_in_for: str | None = None  # the configured engine it replaced because that one was unavailable
    reason: str | None = None  # why the configured engine was unavailable ("quota exceeded")
    low_accuracy: bool = False  # a low-accuracy engine (the basic backup recogniser): every word needs checking


class Note(Record, NoteContent):
    """A clinical note: its content (``NoteContent``, what the drafter wrote and the clinician edits) and the
    record around it. Keyed by (patient_id, timestamp); signed notes are immutable."""

    patient_id: str
    timestamp: int = Field(default_factory=now_ms)
    status: NoteStatus = NoteStatus.DRAFT
    author: str = ""
    signer: str | None = None
    signed_at: int | None = None
    amends: int | None = None  # timestamp of the note this one amends
    job_id: str | None = None
    audio_key: str | None = None
    transcript: list[Segment] = Field(default_factory=list)
    style: str | None = None  # the note style the sections were last rendered in; None: as drafted (full)
    edited_by: str | None = None  # who last saved edits of the text (a redraft would replace them)
    speech: SpeechEngine | None = None  # None: no recording, or a note made before the engine was kept
    updated_at: int = Field(default_factory=now_ms)

    @property
    def content(self) -> NoteContent:
        """Just the note's content, without the record's fields."""
        return NoteContent(**{name: getattr(self, name) for name in NoteContent.model_fields})

    def with_content(self, content: NoteContent, **update: object) -> Note:
        """A copy of the note holding ``content`` instead of its own (and ``update``'s record fields); not stored."""
        return self.model_copy(update={**{name: getattr(content, name) for name in NoteContent.model_fields}, **update})


class HistoryEntry(Record):
    """A medication list / document in PatientHistory. Keyed by (patient_id, timestamp)."""

    patient_id: str
    timestamp: int = Field(default_factory=now_ms)
    source: str = ""  # "digitize:image", "digitize:pdf", "import", "demo"
    medications: list[Medication] = Field(default_factory=list)
    document_key: str | None = None
    document_mime: str | None = None
    extracted_text: str = ""
    author: str = ""
    # ISO day printed on the document, as the clinician confirmed it; the timeline places the entry there
    # (``timestamp`` stays the upload time and the key). None on rows written before this field existed.
    document_date: str | None = None


class MetricDay(BaseModel):
    """A daily aggregate of one wearable metric. Keyed by (patient_id, metric#day)."""

    patient_id: str
    metric: str  # resting_hr | hrv | temperature_dev | sleep_hours | steps | spo2 | ...
    day: str  # ISO date YYYY-MM-DD
    value: float
    unit: str = ""
    n_samples: int = 1
    source: str = ""


class JobStatus(StrEnum):
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    DRAFTING = "drafting"
    READY = "ready_for_review"
    FAILED = "failed"


class Job(Record):
    """A job: one recording on its way to a draft note, or one document on its way to a reading."""

    job_id: str
    kind: str  # "scribe" | "document"
    patient_id: str
    blob_key: str
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    error: str | None = None
    result_note_ts: int | None = None
    result_key: str | None = None  # a document job's reading (a blob), once it is ready
    created_by: str = ""
    created_at: int = Field(default_factory=now_ms)
    updated_at: int = Field(default_factory=now_ms)
    # The recording, as submitted.
    filename: str = ""
    source: str = ""  # "upload" | "browser" (recorded on the page) | "live" | "api"
    duration_s: float | None = None
    codec: str | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None = None
