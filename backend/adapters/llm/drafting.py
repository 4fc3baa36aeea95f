"""Note drafting with any LLM engine (Gemini, Bedrock, OpenAI-compatible): transcript segments (with ids) in, a grounded SOAP draft out.

Returns a ``NoteContent``, as the offline drafter does: the sentences with their evidence, vitals, diagnoses and
medications that survived the grounding check, and in ``provenance.unsupported`` what the check removed
("not found in the recording").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from backend.adapters.llm.client import JsonLlm
from backend.adapters.llm.schemas import NoteDraftReply
from backend.domain.grounding import CitedFact, CitedSentence, DrugFinder, ground_draft
from backend.domain.models import Segment
from backend.domain.note_content import (
    KIND_SECTION,
    SOAP_SECTIONS,
    Diagnosis,
    DraftSentence,
    Evidence,
    NoteContent,
    Provenance,
    Vital,
)

SYSTEM = """You draft clinical notes from a consultation transcript for a clinician to review and sign.
Rules:
- Use only what the transcript says. Never add a drug, dose, number, vital sign, diagnosis or plan that was not said.
- Every sentence and item must cite the ids of the transcript segments that say it (segment_ids).
- Keep numbers exactly as said. Write doses, vitals and durations with digits.
- Denied symptoms are written as denied ("She denies fever."), not as present.
- If something is unclear, leave it out: the clinician will read the transcript.
- Sections: subjective (complaint, history, symptoms), objective (vitals, examination, results),
  assessment (diagnoses/problems discussed), plan (medications, tests, advice, follow-up)."""

Verifier = Callable[[str], bool]  # drug name -> is it a known drug (dictionary or brand table)


def known_drug(name: str) -> bool:
    """The default ``verify``: the name is in the shared dictionary or brand table (no fuzzy correction)."""
    from backend.domain.medications import lookup_name

    return lookup_name(name, correct=False) is not None


def _default_drug_finder(text: str) -> list[str]:
    from backend.domain.medications import extract_mentions

    return [m.medication.name for m in extract_mentions(text)]


def transcript_prompt(segments: Sequence[Segment]) -> str:
    """The transcript as the model sees it: one ``[id] speaker: text`` line per segment."""
    lines = [f"[{s.id}] {s.speaker or 'speaker'}: {s.text.strip()}" for s in segments if s.text.strip()]
    return "Transcript segments:\n" + "\n".join(lines) + "\n\nDraft the SOAP note as JSON with cited segment ids."


class LlmDrafter:
    """Callable ``(segments) -> NoteContent``; raises ProviderUnavailable to fall back.

    Args:
        client: the configured LLM client.
        synonyms: folded diagnosis -> other names that ground it (see ``backend.domain.grounding``).
        verify: tells whether a drug name is known (sets ``Medication.verified``); default: the shared dictionary.
        find_drugs: drug names in a sentence, for the sentence check; default: the shared medication parser.
    """

    def __init__(
        self,
        client: JsonLlm,
        *,
        synonyms: Mapping[str, Sequence[str]] | None = None,
        verify: Verifier | None = None,
        find_drugs: DrugFinder | None = None,
    ) -> None:
        self.client = client
        self.name = client.name
        self._synonyms = synonyms or {}
        self._verify = verify or known_drug
        self._find_drugs = find_drugs or _default_drug_finder

    def check(self) -> str:
        """The client's connection test (the ``Checkable`` capability)."""
        return self.client.check()

    def __call__(self, segments: Sequence[Segment]) -> NoteContent:
        reply = self.client.generate_json("note drafting", transcript_prompt(segments), NoteDraftReply, system=SYSTEM)
        return self.to_content(reply, segments)

    def to_content(self, reply: NoteDraftReply, segments: Sequence[Segment]) -> NoteContent:
        """Ground a validated reply against ``segments`` and shape it like the offline drafter's output."""
        sentences = [
            CitedSentence(
                section=s.section if s.section in SOAP_SECTIONS else "subjective",
                kind=s.kind if s.kind in KIND_SECTION else "hpi",
                text=s.text.strip(),
                segment_ids=s.segment_ids,
            )
            for s in reply.sentences
            if s.text.strip()
        ]
        meds = [
            m.to_medication(Evidence(segment_ids=m.segment_ids, quote=m.verbatim.strip()))
            for m in reply.medications
            if m.name.strip()
        ]
        grounded = ground_draft(
            segments,
            sentences=sentences,
            medications=meds,
            vitals=[
                CitedFact(name=v.kind, value=v.value, unit=v.unit or "", segment_ids=v.segment_ids)
                for v in reply.vitals
            ],
            diagnoses=[CitedFact(name=d.name, segment_ids=d.segment_ids) for d in reply.diagnoses],
            follow_up=[
                CitedSentence(section="plan", kind="plan", text=f.text, segment_ids=f.segment_ids)
                for f in reply.follow_up
            ],
            synonyms=self._synonyms,
            find_drugs=self._find_drugs,
        )
        sections = {name: " ".join(s.text for s in grounded.sentences if s.section == name) for name in SOAP_SECTIONS}
        if grounded.follow_up:
            follow = " ".join(f.text for f in grounded.follow_up)
            sections["plan"] = f"{sections['plan']} {follow}".strip()
        # The follow-up is kept as plan sentences (the model writes whole sentences, not the offline "when").
        return NoteContent(
            sections=sections,
            sentences=[DraftSentence(**s.model_dump()) for s in [*grounded.sentences, *grounded.follow_up]],
            vitals=[Vital(kind=v.name, value=v.value, unit=v.unit, segment_ids=v.segment_ids) for v in grounded.vitals],
            diagnoses=[Diagnosis(text=d.name, segment_ids=d.segment_ids) for d in grounded.diagnoses],
            medications=[m.model_copy(update={"verified": self._verify(m.name)}) for m in grounded.medications],
            provenance=Provenance(engine=self.name, unsupported=grounded.unsupported),
        )
