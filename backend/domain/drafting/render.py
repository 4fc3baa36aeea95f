"""``render_note_text``: a draft as note text with the headings clinicians expect."""

from __future__ import annotations

from backend.domain.drafting.drug_context import TRIED
from backend.domain.note_content import DraftSentence, Medication, NoteContent

_HEADINGS = [
    ("chief_complaint", "CHIEF COMPLAINT"),
    ("hpi", "HISTORY OF PRESENT ILLNESS"),
    ("medications", "MEDICATIONS"),
    ("ros", "REVIEW OF SYSTEMS"),
    ("vitals", "VITALS"),
    ("exam", "PHYSICAL EXAM"),
    ("results", "RESULTS"),
    ("assessment", "ASSESSMENT AND PLAN"),
]


def _sentence(s: DraftSentence) -> str:
    return f"{s.text} [unverified]" if s.unverified else s.text


def tried_words(med: Medication) -> str | None:
    """The quoted words of a drug tried for the complaint that did not help (``drug_context.TRIED``), else None."""
    reason = med.status_reason or ""
    if med.status != "stopped" or not reason.startswith(f"{TRIED}: "):
        return None
    return reason[len(TRIED) + 2 :]


def _medication_line(med: Medication) -> str:
    parts = [med.name] + [p for p in (med.strength, med.route, med.frequency, med.duration) if p]
    line = " ".join(parts)
    if med.status == "declined":
        # said first, so the line is never read as a drug to take; the reason is the clinician's context
        line = f"Declined: {line}" + (f" — {med.status_reason}" if med.status_reason else "")
    elif tried_words(med) is not None:
        line = f"Tried, did not help: {line} — {tried_words(med)}"  # also said first: not a drug taken now
    elif med.status:
        line += f" ({med.status})"
    if not med.verified:
        line += " [unverified]"
    return f"- {line}"


def render_note_text(draft: NoteContent) -> str:
    """The draft as plain note text: a heading per part, one paragraph (or list) under each.

    Parts without content are left out; ASSESSMENT AND PLAN holds the assessment sentences then the plan.
    Items the clinician must check end with "[unverified]".
    """
    blocks: list[str] = []
    for kind, heading in _HEADINGS:
        if kind == "medications":
            lines = [_medication_line(m) for m in draft.medications]
            body = "\n".join(lines)
        elif kind == "assessment":
            chosen = draft.sentences_of("assessment") + draft.sentences_of("plan")
            body = " ".join(_sentence(s) for s in chosen)
        elif kind in {"ros", "vitals"}:
            body = "\n".join(_sentence(s) for s in draft.sentences_of(kind))
        else:
            body = " ".join(_sentence(s) for s in draft.sentences_of(kind))
        if body.strip():
            blocks.append(f"{heading}\n\n{body.strip()}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")
