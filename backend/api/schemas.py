"""What the REST API sends and accepts: pydantic models, so the OpenAPI schema says exactly what comes back.

Every record leaves through one of the ``*_out`` functions here, so a change of a domain model (the note's
structured fields, say) changes one place of the API.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from backend.domain.models import HistoryEntry, Job, JobStatus, Medication, Note, Patient, Segment, SpeechEngine
from backend.domain.note_content import SoapSection
from backend.domain.reconcile import ActiveMed
from backend.domain.speech_words import speech_sentence

JobState = Literal["queued", "transcribing", "drafting", "ready_for_review", "failed"]


class FieldProblem(BaseModel):
    """One refused field of a request (a 422's ``errors``); the refused value itself is never echoed."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'phone'] or ['query', 'limit']")
    msg: str
    type: str


class Problem(BaseModel):
    """Every refusal (RFC 9457 problem details, ``application/problem+json``).

    ``code`` is stable: branch on it, not on ``detail``, which is a sentence for people (what went wrong and
    what to do) and may be reworded.
    """

    type: str = Field(description="A URN naming the kind of problem: urn:copilot:problem:<code>")
    title: str = Field(description="The HTTP status's short name")
    status: int
    detail: str = Field(description="What went wrong and what to do, in a sentence")
    code: str = Field(description="Stable machine-readable reason, e.g. version_conflict")
    instance: str | None = Field(default=None, description="The request's path")
    errors: list[FieldProblem] | None = Field(default=None, description="422 only: each refused field")


# --- patients -------------------------------------------------------------------------------------------------


class PatientIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Ravi Kumar", "phone": "98765 43210", "dob": "1971-04-02", "sex": "male"}]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(default="", max_length=40, description="Any common format; stored as E.164.")
    dob: date | None = None
    sex: Literal["female", "male", "other"] | None = None
    external_id: str | None = Field(default=None, max_length=100, description="The clinic's or EHR's own id.")


class PatientUpdate(PatientIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"version": 1, "name": "Ravi Kumar", "phone": "+919876543210"}]},
    )

    version: int = Field(ge=1, description="The version you read; a stale one gives 409.")


class PatientOut(BaseModel):
    patient_id: str
    name: str
    phone: str | None
    dob: str | None
    sex: str | None
    external_id: str | None
    created_at: int
    version: int


class PatientCreated(PatientOut):
    same_phone: list[str] = Field(description="Other patients already registered with this phone (a warning).")


class PatientList(BaseModel):
    items: list[PatientOut]
    next_cursor: str | None = None


def patient_out(p: Patient) -> PatientOut:
    return PatientOut(
        patient_id=p.patient_id,
        name=p.name,
        phone=p.phone,
        dob=p.dob,
        sex=p.sex,
        external_id=p.external_id,
        created_at=p.created_at,
        version=p.version,
    )


# --- jobs -----------------------------------------------------------------------------------------------------


class NoteRef(BaseModel):
    patient_id: str
    timestamp: int
    url: str


class JobAccepted(BaseModel):
    job_id: str
    status: JobState
    status_url: str

    @classmethod
    def of(cls, job: Job, **links: str) -> Self:
        """The answer to an upload that queued ``job``: its id, status and where to poll it (plus ``links``)."""
        return cls(job_id=job.job_id, status=job.status.value, status_url=f"/v1/jobs/{job.job_id}", **links)


class DocumentAccepted(JobAccepted):
    reading_url: str = Field(description="GET it once status_url says ready_for_review; then confirm or cancel.")


class JobOut(BaseModel):
    job_id: str
    patient_id: str
    status: JobState
    error: str | None
    attempts: int
    created_at: int
    updated_at: int
    note: NoteRef | None = Field(description="The draft note, once the status is ready_for_review.")


def note_url(patient_id: str, timestamp: int) -> str:
    return f"/v1/patients/{patient_id}/notes/{timestamp}"


def job_out(job: Job) -> JobOut:
    ready = job.status is JobStatus.READY and job.result_note_ts is not None
    ref = NoteRef(
        patient_id=job.patient_id,
        timestamp=job.result_note_ts or 0,
        url=note_url(job.patient_id, job.result_note_ts or 0),
    )
    return JobOut(
        job_id=job.job_id,
        patient_id=job.patient_id,
        status=job.status.value,
        error=job.error,
        attempts=job.attempts,
        created_at=job.created_at,
        updated_at=job.updated_at,
        note=ref if ready else None,
    )


# --- notes ----------------------------------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    segment_ids: list[int]
    quote: str


class MedicationOut(BaseModel):
    name: str
    verbatim: str
    strength: str | None
    form: str | None
    route: str | None
    frequency: str | None
    duration: str | None
    instructions: str | None
    status: str | None = Field(
        description="started, continued, stopped or declined (refused, not taken or to avoid: never active); "
        "None when not said."
    )
    status_reason: str | None = Field(
        default=None,
        description="Why it is declined or stopped, in the words said; a drug tried for the complaint without help "
        'is stopped with a reason starting "tried, did not help: ".',
    )
    verified: bool = Field(description="The name was found in the drug dictionary or brand table.")
    found_by: str
    heard_as: str | None
    flags: list[str]
    evidence: EvidenceOut


class MedicationIn(BaseModel):
    """One row of an edited list: row ``i`` edits the ``i``-th medication as you read it, extra rows are new."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    strength: str | None = Field(default=None, max_length=100)
    form: str | None = Field(default=None, max_length=100)
    route: str | None = Field(default=None, max_length=100)
    frequency: str | None = Field(default=None, max_length=100)
    duration: str | None = Field(default=None, max_length=100)
    instructions: str | None = Field(default=None, max_length=500)
    status: Literal["started", "continued", "stopped", "declined"] | None = None
    status_reason: str | None = Field(default=None, max_length=500, description="Why it is declined.")


class SegmentOut(BaseModel):
    id: int
    start: float
    end: float
    text: str
    speaker: str | None


class NoteSummary(BaseModel):
    patient_id: str
    timestamp: int
    version: int
    status: Literal["draft", "signed"]
    author: str
    signer: str | None
    signed_at: int | None
    amends: int | None
    job_id: str | None
    updated_at: int
    url: str


class SpeechOut(BaseModel):
    """The speech engine that transcribed the note's recording."""

    engine: str = Field(description='As the engine names itself, e.g. "whisper-faster-whisper-base".')
    stood_in_for: str | None = Field(description="The configured engine it replaced because that one was unavailable.")
    reason: str | None = Field(description="Why the configured engine was unavailable.")
    low_accuracy: bool = Field(description="A low-accuracy backup recogniser: every word needs checking.")
    summary: str = Field(description="The same in one sentence, as the review page says it.")


class NoteOut(NoteSummary):
    sections: dict[str, str]
    medications: list[MedicationOut]
    transcript: list[SegmentOut]
    fields: dict[str, Any] = Field(description="Structured fields with their evidence (as the review page shows).")
    unsupported: list[str] = Field(description="Statements removed because the recording does not support them.")
    has_audio: bool
    speech: SpeechOut | None = Field(
        default=None, description="None: no recording, or a note made before the engine was kept with the note."
    )


class NoteList(BaseModel):
    items: list[NoteSummary]
    next_cursor: str | None = None


class NoteEdit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"version": 2, "sections": {"plan": "Paracetamol 500 mg as needed; review in 3 days."}}]
        },
    )

    version: int = Field(ge=1, description="The version you read; a stale one gives 409.")
    sections: dict[SoapSection, str]
    medications: list[MedicationIn] | None = Field(default=None, description="None keeps the list as it is.")


class NoteSign(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 3}]})

    version: int = Field(ge=1, description="The version you reviewed: the note is signed only if it is unchanged.")
    sections: dict[SoapSection, str] | None = Field(
        default=None, description="Last edits, saved and signed in one write (None: sign as stored)."
    )
    medications: list[MedicationIn] | None = None


def medication_out(m: Medication) -> MedicationOut:
    return MedicationOut(
        name=m.name,
        verbatim=m.verbatim,
        strength=m.strength,
        form=m.form,
        route=m.route,
        frequency=m.frequency,
        duration=m.duration,
        instructions=m.instructions,
        status=m.status,
        status_reason=m.status_reason,
        verified=m.verified,
        found_by=m.found_by,
        heard_as=m.heard_as,
        flags=list(m.flags),
        evidence=EvidenceOut(segment_ids=list(m.evidence.segment_ids), quote=m.evidence.quote),
    )


def edited_medications(rows: list[MedicationIn], original: list[Medication], *, verbatim: bool) -> list[Medication]:
    """The medications an edited list stands for (the pages' rule): row ``i`` edits ``original[i]``.

    Fields not sent stay as the original had them; a changed name is no longer verified (the dictionary or a
    clinician vouched for the old one). ``verbatim``: a new row's name is also what the document says.
    """
    out = []
    for i, row in enumerate(rows):
        name = row.name.strip()
        base = original[i] if i < len(original) else Medication(name=name, verbatim=name if verbatim else "")
        values = {
            k: (v.strip() or None) if isinstance(v, str) else v for k, v in row.model_dump(exclude_unset=True).items()
        }
        if values.get("status", "declined") != "declined" and "status_reason" not in values:
            values["status_reason"] = None  # a reason for declining does not outlive the status it explained
        out.append(base.model_copy(update={**values, "name": name, "verified": base.verified and name == base.name}))
    return out


def _segment_out(s: Segment) -> SegmentOut:
    return SegmentOut(id=s.id, start=s.start, end=s.end, text=s.text, speaker=s.speaker)


def _plain_fields(note: Note) -> dict[str, Any]:
    # The typed content (sentences, facts, speakers, provenance) in its JSON form; sections and medications
    # have their own keys.
    return note.content.model_dump(mode="json", exclude={"sections", "medications"})


def note_summary(n: Note) -> NoteSummary:
    return NoteSummary(
        patient_id=n.patient_id,
        timestamp=n.timestamp,
        version=n.version,
        status=n.status.value,
        author=n.author,
        signer=n.signer,
        signed_at=n.signed_at,
        amends=n.amends,
        job_id=n.job_id,
        updated_at=n.updated_at,
        url=note_url(n.patient_id, n.timestamp),
    )


def note_out(n: Note) -> NoteOut:
    return NoteOut(
        **note_summary(n).model_dump(),
        sections={k: v for k, v in n.sections.items()},
        medications=[medication_out(m) for m in n.medications],
        transcript=[_segment_out(s) for s in n.transcript],
        fields=_plain_fields(n),
        unsupported=list(n.provenance.unsupported),
        has_audio=bool(n.audio_key),
        speech=_speech_out(n.speech) if n.speech else None,
    )


def _speech_out(speech: SpeechEngine) -> SpeechOut:
    return SpeechOut(**speech.model_dump(), summary=speech_sentence(speech))


# --- documents ------------------------------------------------------------------------------------------------


class IdentityOut(BaseModel):
    status: str = Field(description="match, mismatch or unknown: who the document names, against the patient.")
    summary: str = Field(description="What differs, in words (empty when nothing does).")


class ReadingOut(BaseModel):
    reading_id: str
    patient_id: str
    filename: str
    mime: str
    pages: int
    text: str
    medications: list[MedicationOut]
    unsupported: list[str]
    banner: str
    identity: IdentityOut | None
    expires_at: int | None = Field(description="None: the reading is kept until it is confirmed or cancelled.")
    confirm_url: str


class DocumentConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    medications: list[MedicationIn] | None = Field(default=None, description="None: the list as read.")
    document_date: date | None = Field(default=None, description="The date printed on the document, as checked.")
    confirm_patient: bool = Field(
        default=False, description="The document names someone else and you confirm it belongs to this patient."
    )


class HistoryOut(BaseModel):
    patient_id: str
    timestamp: int
    source: str
    medications: list[MedicationOut]
    document_mime: str | None
    document_date: str | None
    author: str


def history_out(h: HistoryEntry) -> HistoryOut:
    return HistoryOut(
        patient_id=h.patient_id,
        timestamp=h.timestamp,
        source=h.source,
        medications=[medication_out(m) for m in h.medications],
        document_mime=h.document_mime,
        document_date=h.document_date,
        author=h.author,
    )


# --- metrics, timeline, ask, export ---------------------------------------------------------------------------


class MetricsImportOut(BaseModel):
    format: str
    patient_ids: list[str]
    imported_samples: int
    duplicates: int
    days_written: int
    days_unchanged: int
    days_by_metric: dict[str, int]
    first_day: str | None
    last_day: str | None
    rejected_total: int
    unknown_metrics: list[str]
    notes: list[str]
    already_imported: bool


class MetricDayOut(BaseModel):
    metric: str
    day: str
    value: float
    unit: str


class MetricDays(BaseModel):
    items: list[MetricDayOut]


class TimelineItemOut(BaseModel):
    kind: str
    timestamp: int
    title: str
    summary: str
    status: str
    ref: dict[str, Any]


class TimelineOut(BaseModel):
    items: list[TimelineItemOut]
    next_cursor: str | None
    total: int


class ActiveMedicationOut(BaseModel):
    name: str
    strength: str | None
    frequency: str | None
    status: Literal["active", "stopped", "declined"] = Field(
        description="declined: refused, not taken or to avoid (never active), with ``status_reason``."
    )
    status_reason: str = ""
    verified: bool
    since: int
    since_word: str
    last_seen: int
    last_source: str
    changes: list[str]
    conflict: bool
    conflict_detail: str
    same_class: list[str] = Field(description="Another drug of the same class is active too (a warning).")
    sources: list[dict[str, Any]]


def active_medication_out(m: ActiveMed) -> ActiveMedicationOut:
    return ActiveMedicationOut(
        name=m.name,
        strength=m.strength,
        frequency=m.frequency,
        status=m.status,
        status_reason=m.status_reason,
        verified=m.verified,
        since=m.since,
        since_word=m.since_word,
        last_seen=m.last_seen,
        last_source=m.last_source,
        changes=list(m.changes),
        conflict=m.conflict,
        conflict_detail=m.conflict_detail,
        same_class=list(m.same_class),
        sources=[dict(s) for s in m.sources],
    )


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000)


class CitationOut(BaseModel):
    passage_id: str
    kind: str
    ref: dict[str, Any]
    label: str
    snippet: str


class AnswerOut(BaseModel):
    answer: str
    mode: str
    note: str
    citations: list[CitationOut]


class FhirBundle(BaseModel):
    """A FHIR R4 Bundle (type ``collection``), validated against the R4 structures before it is sent."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Bundle"]
    type: str
    entry: list[dict[str, Any]] = Field(default_factory=list)
