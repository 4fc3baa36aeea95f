"""Every diagnosis the drafter found appears in the Assessment, with the segments that name it."""

from __future__ import annotations

from backend.domain.drafting.compose import Candidate
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.note_content import Diagnosis, DraftSentence


def _assessed(diagnosis: Diagnosis, said: list[Candidate]) -> bool:
    # Named by the clinician once the visit is past the history: a condition the patient mentions, or one the
    # clinician asks or recalls while taking the history ("your mother had diabetes"), is history, not assessment.
    cited = set(diagnosis.segment_ids)
    return any(c.speaker != "patient" and c.past_history and cited & set(c.segment_ids) for c in said)


def diagnosis_sentences(
    diagnoses: list[Diagnosis], sentences: list[DraftSentence], said: list[Candidate]
) -> list[DraftSentence]:
    """One Assessment line per diagnosis the clinician assessed that no Assessment sentence of the draft names yet.

    The line is the diagnosis itself ("Hypertension." or "Possible asthma."), citing the segments it was found in
    and unverified when it was said with doubt; nothing is added that the transcript does not name.

    Args:
        diagnoses: the draft's diagnoses (``facts.diagnoses``).
        sentences: the draft's sentences so far.
        said: every candidate sentence of the consultation (who said it, and when in the visit).

    Returns:
        The lines to put first in the Assessment, in the order the diagnoses were found.
    """
    named = {
        name for s in sentences if s.section == "assessment" for _, _, name in diagnosis_lexicon().find(s.text.lower())
    }
    out: list[DraftSentence] = []
    for dx in diagnoses:
        if dx.text.lower() in named or not dx.segment_ids or not _assessed(dx, said):
            continue
        text = f"Possible {dx.text}." if dx.certainty == "possible" else f"{dx.text[0].upper()}{dx.text[1:]}."
        out.append(DraftSentence(section="assessment", kind="assessment", text=text,
                                 segment_ids=list(dx.segment_ids), unverified=dx.unverified))  # fmt: skip
    return out
