"""Response schemas sent to every LLM engine and used again to validate its reply.

Gemini takes them as ``response_schema``, Bedrock as a tool's input schema, OpenAI-compatible servers as
``response_format.json_schema``.

Every clinical item carries ``segment_ids``: the transcript segments (or, for answers, the passages) it came
from, so the grounding check can test it against exactly that text. The shapes stay simple (strings,
numbers, lists of objects, nullable fields) because the engines' schema subsets have no maps or unions.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.domain.note_content import Evidence, Medication


class _ReplyMedication(BaseModel):
    """A medication as an engine replies it (spoken or printed); its fields are a subset of ``Medication``'s."""

    name: str
    verbatim: str

    def to_medication(self, evidence: Evidence) -> Medication:
        """The domain medication of this reply item (name and words trimmed), not yet grounded or verified."""
        fields = self.model_dump(exclude={"name", "verbatim", "segment_ids"})
        return Medication(name=self.name.strip(), verbatim=self.verbatim.strip(), evidence=evidence, **fields)


class NoteSentence(BaseModel):
    section: str = Field(description="One of: subjective, objective, assessment, plan.")
    kind: str = Field(
        default="hpi",
        description="One of: chief_complaint, hpi, ros, vitals, exam, results, assessment, plan.",
    )
    text: str = Field(description="One sentence in clinical third-person style. No facts beyond the cited segments.")
    segment_ids: list[int] = Field(description="Ids of the transcript segments that say this.")


class NoteMedication(_ReplyMedication):
    name: str = Field(description="Generic name if known, else the name as spoken.")
    verbatim: str = Field(description="The words exactly as spoken in the cited segment.")
    strength: str | None = Field(default=None, description="e.g. '500 mg'; only if said.")
    route: str | None = None
    frequency: str | None = Field(default=None, description="e.g. 'twice daily'; only if said.")
    duration: str | None = Field(default=None, description="e.g. '5 days'; only if said.")
    status: str | None = Field(
        default=None,
        description="started, continued or stopped, if said; declined if the patient refuses it, is not taking it "
        "or is told to avoid it.",
    )
    status_reason: str | None = Field(default=None, description="Why it is declined, in a few words, if said.")
    segment_ids: list[int]


class NoteVital(BaseModel):
    kind: str = Field(description="One of: bp, hr, temperature, spo2, rr, weight, glucose.")
    value: str = Field(description="The value with its digits as said, e.g. '140/90' or '98.6'.")
    unit: str | None = None
    segment_ids: list[int]


class NoteDiagnosis(BaseModel):
    name: str = Field(description="The diagnosis or problem in the words used in the consultation.")
    segment_ids: list[int]


class NoteFollowUp(BaseModel):
    text: str
    segment_ids: list[int]


class NoteDraftReply(BaseModel):
    """The drafted SOAP note."""

    sentences: list[NoteSentence]
    medications: list[NoteMedication] = Field(default_factory=list)
    vitals: list[NoteVital] = Field(default_factory=list)
    diagnoses: list[NoteDiagnosis] = Field(default_factory=list)
    follow_up: list[NoteFollowUp] = Field(default_factory=list)


class ExtractedMedication(_ReplyMedication):
    name: str = Field(description="Generic name if printed or well known, else as printed.")
    verbatim: str = Field(description="The line exactly as printed in the document.")
    strength: str | None = None
    form: str | None = None
    route: str | None = None
    frequency: str | None = None
    duration: str | None = None
    instructions: str | None = None


class MedicationListReply(BaseModel):
    medications: list[ExtractedMedication]


class SpokenSegment(BaseModel):
    speaker: str = Field(description="'doctor', 'patient' or 'other'.")
    start: float = Field(description="Start time in seconds from the beginning of the audio.")
    end: float = Field(description="End time in seconds.")
    text: str = Field(description="Exactly what was said; no corrections, no summaries.")


class TranscriptReply(BaseModel):
    segments: list[SpokenSegment]


class RewriteReply(BaseModel):
    text: str


class AnswerReply(BaseModel):
    answer: str = Field(description="The answer, using only the given passages.")
    cited_ids: list[str] = Field(description="Ids of the passages the answer uses.")
