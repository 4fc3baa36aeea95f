"""Entities of the record store (pydantic v2). Times are epoch milliseconds (UTC)."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


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
    created_at: int = Field(default_factory=now_ms)
    created_by: str = ""
    updated_at: int = Field(default_factory=now_ms)


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


class Evidence(BaseModel):
    """Where a statement of a draft came from."""

    segment_ids: list[int] = Field(default_factory=list)
    quote: str = ""


class Medication(BaseModel):
    """One medication line, from a note or a digitized document."""

    name: str  # INN/generic when known, else verbatim
    verbatim: str = ""  # exactly as read/heard
    strength: str | None = None
    form: str | None = None
    route: str | None = None
    frequency: str | None = None
    duration: str | None = None
    instructions: str | None = None
    status: str | None = None  # started | continued | stopped | None
    verified: bool = False  # name found in the drug dictionary or brand table
    corrected_from: str | None = None
    # How the name was found: "dictionary" | "brand" | "sounds_like" (recovered from misheard speech: see
    # ``heard_as``) | "llm" | "unknown" (kept verbatim); empty on rows written before this field existed.
    found_by: str = ""
    heard_as: str | None = None  # the transcript words a sounds-like name was recovered from
    flags: list[str] = Field(default_factory=list)  # why a field is uncertain, for the clinician
    evidence: Evidence = Field(default_factory=Evidence)


class NoteStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class Note(Record):
    """A clinical note. Keyed by (patient_id, timestamp); signed notes are immutable."""

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
    sections: dict[str, str] = Field(default_factory=dict)  # subjective/objective/assessment/plan
    fields: dict[str, Any] = Field(default_factory=dict)  # structured fields with evidence
    medications: list[Medication] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)  # removed by grounding checks
    updated_at: int = Field(default_factory=now_ms)


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
    job_id: str
    kind: str  # "scribe"
    patient_id: str
    blob_key: str
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    error: str | None = None
    result_note_ts: int | None = None
    created_by: str = ""
    created_at: int = Field(default_factory=now_ms)
    updated_at: int = Field(default_factory=now_ms)
    params: dict[str, Any] = Field(default_factory=dict)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None = None
