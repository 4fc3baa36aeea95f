"""What a note says: SOAP sections, sentences with their evidence, structured facts, medications, and provenance.

Every drafter returns a ``NoteContent`` (the offline rules in ``backend.domain.drafting``, the LLM drafter);
a ``Note`` (``backend.domain.models``) is that content plus the record around it (keys, status, signature).
The review screen, the visit summary, the referral letter, the timeline and the export read it by attribute.
Every item names the transcript segments it came from (``segment_ids``), so the clinician can check it.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

# The SOAP sections of every note, in the order they are shown, edited and exported (the one place they are named).
SoapSection = Literal["subjective", "objective", "assessment", "plan"]
SOAP_SECTIONS: tuple[str, ...] = get_args(SoapSection)
# Parts of the rendered note and the SOAP section each belongs to.
KIND_SECTION = {
    "chief_complaint": "subjective",
    "hpi": "subjective",
    "ros": "subjective",
    "vitals": "objective",
    "exam": "objective",
    "results": "objective",
    "assessment": "assessment",
    "plan": "plan",
}


def empty_sections() -> dict[str, str]:
    """Each SOAP section, empty."""
    return dict.fromkeys(SOAP_SECTIONS, "")


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
    # started | continued | stopped | declined (refused, not taking, or told to avoid: never active) | None
    status: str | None = None
    status_reason: str | None = None  # why it is declined (or stopped), as said in the consultation
    verified: bool = False  # name found in the drug dictionary or brand table
    corrected_from: str | None = None
    # How the name was found: "dictionary" | "brand" | "sounds_like" (recovered from misheard speech: see
    # ``heard_as``) | "llm" | "unknown" (kept verbatim); empty on rows written before this field existed.
    found_by: str = ""
    heard_as: str | None = None  # the transcript words a sounds-like name was recovered from
    flags: list[str] = Field(default_factory=list)  # why a field is uncertain, for the clinician
    evidence: Evidence = Field(default_factory=Evidence)


class CitedText(BaseModel):
    """A short item of the note (chief complaint, allergy, follow-up) and the segments that say it."""

    text: str
    segment_ids: list[int] = Field(default_factory=list)


class DraftSentence(BaseModel):
    """One sentence of the draft and the transcript segments it came from."""

    section: str  # one of SOAP_SECTIONS
    text: str
    segment_ids: list[int] = Field(default_factory=list)
    kind: str = "hpi"  # a key of KIND_SECTION
    unverified: bool = False  # carries something the clinician must check (implausible vital, unknown drug)


class Symptom(BaseModel):
    """A symptom the consultation mentions; ``present`` is False when the patient denied it."""

    name: str
    present: bool
    segment_ids: list[int] = Field(default_factory=list)


class Vital(BaseModel):
    """A vital sign as said; ``plausible`` is False (with ``reason``) when outside the physiological range."""

    kind: str  # bp | hr | temperature | spo2 | rr | weight | glucose (an LLM may name others)
    value: str  # "120/80", "98.6": digits as said
    unit: str = ""
    plausible: bool = True
    reason: str = ""
    segment_ids: list[int] = Field(default_factory=list)


class CodeChoice(BaseModel):
    """A clinician's decision on a diagnosis's ICD-10 code: the code they confirmed or picked, or none."""

    code: str | None = None  # None: the clinician decided that no code fits
    by: str
    at: int  # epoch ms


class Diagnosis(BaseModel):
    """A condition the consultation names (never inferred); "possible" ones are unverified until checked."""

    text: str
    certainty: Literal["stated", "possible"] = "stated"
    unverified: bool = False
    segment_ids: list[int] = Field(default_factory=list)
    # None until a clinician decides: until then any code is only a suggestion looked up from ``text``.
    icd10: CodeChoice | None = None


class RecoveredName(BaseModel):
    """A drug name recovered from words the recogniser heard instead ("list in April" -> lisinopril)."""

    segment_id: int
    heard: str
    drug: str
    score: float = 0.0


class Speakers(BaseModel):
    """Who spoke, as the draft read it."""

    patient_pronoun: str | None = None  # "she" | "he" | "they": the pronoun the offline drafter writes with
    roles_set_by: str | None = None  # the clinician who last fixed the speaker roles the draft was made from


class Provenance(BaseModel):
    """Where the content came from and what the clinician must know about it."""

    engine: str | None = None  # the drafting engine that served (an LLM's name, or "rules" after a fallback)
    engine_fallback: str | None = None  # why a cloud engine handed over to an offline one (speech, drafting)
    low_accuracy_engine: str | None = None  # the low-accuracy speech engine that transcribed, when one did
    audio_warnings: list[str] = Field(default_factory=list)  # problems of the recording (clipping, music, ...)
    unsupported: list[str] = Field(default_factory=list)  # removed by the grounding check: not in the recording
    recovered_names: list[RecoveredName] = Field(default_factory=list)


class NoteContent(BaseModel):
    """The content of a note: what a drafter wrote and the clinician edits.

    ``sections`` holds the text of each SOAP section (the text that is signed); ``sentences`` the draft's
    sentences with their evidence (styles re-render from them); the structured facts and medications link
    to transcript segments too.
    """

    sections: dict[str, str] = Field(default_factory=empty_sections)
    sentences: list[DraftSentence] = Field(default_factory=list)
    chief_complaint: CitedText | None = None
    symptoms: list[Symptom] = Field(default_factory=list)
    vitals: list[Vital] = Field(default_factory=list)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    allergies: list[CitedText] = Field(default_factory=list)
    follow_up: CitedText | None = None  # when to come back ("in 2 weeks"); an LLM's follow-up is plan sentences
    medications: list[Medication] = Field(default_factory=list)
    speakers: Speakers = Field(default_factory=Speakers)
    provenance: Provenance = Field(default_factory=Provenance)

    def sentences_of(self, kind: str) -> list[DraftSentence]:
        """Sentences of one part of the note (see ``KIND_SECTION``), in transcript order."""
        return [s for s in self.sentences if s.kind == kind]
