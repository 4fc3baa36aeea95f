"""What the drafter returns: SOAP sections made of sentences that each name their transcript segments."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from backend.domain.models import Medication

SOAP_SECTIONS = ("subjective", "objective", "assessment", "plan")
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


class DraftSentence(BaseModel):
    """One sentence of the draft and the transcript segments it came from."""

    section: str  # subjective | objective | assessment | plan
    text: str
    segment_ids: list[int] = Field(default_factory=list)
    kind: str = "hpi"  # chief_complaint | hpi | ros | vitals | exam | results | assessment | plan
    unverified: bool = False  # carries something the clinician must check (implausible vital, unknown drug)


class Draft(BaseModel):
    """A draft note: sections, their sentences with evidence, structured fields and medications."""

    sections: dict[str, str] = Field(default_factory=lambda: dict.fromkeys(SOAP_SECTIONS, ""))
    sentences: list[DraftSentence] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    medications: list[Medication] = Field(default_factory=list)

    def to_note_parts(self) -> tuple[dict[str, str], dict[str, Any], list[Medication]]:
        """``(sections, fields, medications)`` ready for ``Note(sections=..., fields=..., medications=...)``.

        ``fields`` is JSON-serialisable and also carries the sentences with their evidence under ``"sentences"``.
        """
        fields = dict(self.fields)
        fields["sentences"] = [s.model_dump() for s in self.sentences]
        return dict(self.sections), fields, list(self.medications)

    def sentences_of(self, kind: str) -> list[DraftSentence]:
        """Sentences of one part of the note (see ``KIND_SECTION``), in transcript order."""
        return [s for s in self.sentences if s.kind == kind]
