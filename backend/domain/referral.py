"""A signed note + the reconciled medication list -> a referral letter (pure: no I/O).

Only facts of the patient's records appear: the history and findings the signed note wrote, the vital signs
of its objective section, the allergies its signed text names, the active drugs of the reconciled list, and
the note's signer. What the record lacks is left out, never guessed. The recipient and the reason are typed
by the doctor; the note's assessment is offered as a suggestion for the reason only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from html import escape

from backend.domain import clock_format
from backend.domain.drafting.text import normalise, split_sentences
from backend.domain.drafting.vitals import find_vitals
from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, NoteStatus, Patient
from backend.domain.reconcile import ActiveMed
from backend.domain.text import fold

_VITAL_LABELS = {
    "bp": "Blood pressure",
    "hr": "Heart rate",
    "temperature": "Temperature",
    "spo2": "Oxygen saturation",
    "rr": "Respiratory rate",
    "weight": "Weight",
    "glucose": "Blood glucose",
}


class ReferralNeedsSignedNote(ValidationFailed):
    """A referral letter is made from a signed note only."""


@dataclass(frozen=True)
class Referral:
    """The parts of one referral letter; an empty part is left out of the letter."""

    patient_name: str
    patient_dob: str | None
    note_date: str
    to: str
    reason: str
    reason_suggestion: str | None
    history: str | None
    allergies: list[str]
    medications: list[str]
    vitals: list[tuple[str, str]]
    findings: str | None
    clinician: str | None
    note_timestamp: int = 0
    notices: list[str] = field(default_factory=list)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _first_sentence(text: str | None) -> str | None:
    if not text:
        return None
    for a, b in split_sentences(text):
        if text[a:b].strip():
            return text[a:b].strip()
    return None


def _signed_allergies(note: Note) -> list[str]:
    """Allergies the signed text still names (a field dropped from the text before signing is left out)."""
    signed = fold(" ".join(note.sections.values()))
    out: list[str] = []
    for item in note.allergies:
        text = " ".join(item.text.split())
        if text and fold(text) in signed and text not in out:
            out.append(text)
    return out


def _vitals(objective: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for a, b in split_sentences(objective):
        for v in find_vitals(normalise(objective[a:b])):
            if not v.plausible or v.kind not in _VITAL_LABELS:
                continue  # an implausible reading is for the clinician to check, not to pass on as a finding
            item = (_VITAL_LABELS[v.kind], f"{v.value} {v.unit}".strip().replace(" %", "%"))
            if item not in out:
                out.append(item)
    return out


def medication_line(med: ActiveMed) -> str:
    """One drug of the reconciled list as the letter prints it; an unverified name is marked."""
    parts = [med.name, med.strength or "", med.frequency or ""]
    line = " ".join(p for p in parts if p)
    return line + ("" if med.verified else " (name not verified)")


def build_referral(
    note: Note,
    patient: Patient,
    medications: list[ActiveMed],
    clinician: str | None = None,
    to: str = "",
    reason: str = "",
    tz: tzinfo = UTC,
) -> Referral:
    """The referral letter of one signed note.

    Args:
        note: the signed note the referral follows.
        patient: whose letter.
        medications: the patient's reconciled medication list; only active drugs are printed.
        clinician: the signer's display name (None: the note's signer).
        to: the recipient as the doctor typed it.
        reason: the reason as the doctor typed it.

    Raises:
        ReferralNeedsSignedNote: the note is a draft.
    """
    if note.status is not NoteStatus.SIGNED:
        raise ReferralNeedsSignedNote("This note is a draft. Sign it first: a referral is made from signed notes only.")
    objective = note.sections.get("objective", "") or ""
    active = [m for m in medications if m.status == "active"]
    notices = []
    conflicts = [m.name for m in active if m.conflict]
    if conflicts:
        notices.append("Doses differ between sources for: " + ", ".join(conflicts) + ". Check before sending.")
    day = clock_format.day(note.signed_at or note.timestamp, tz).isoformat()  # the clinic's calendar day
    return Referral(
        patient_name=patient.name,
        patient_dob=patient.dob,
        note_date=day,
        to=to.strip(),
        reason=reason.strip(),
        reason_suggestion=_first_sentence(note.sections.get("assessment")),
        history=_clean(note.sections.get("subjective")),
        allergies=_signed_allergies(note),
        medications=[medication_line(m) for m in active],
        vitals=_vitals(objective),
        findings=_clean(objective),
        clinician=clinician or note.signer,
        note_timestamp=note.timestamp,
        notices=notices,
    )


def addressed(referral: Referral, to: str, reason: str) -> Referral:
    """The same letter with the recipient and reason the doctor typed."""
    return replace(referral, to=to.strip(), reason=reason.strip())


def _parts(r: Referral) -> list[tuple[str, list[str]]]:
    """(heading, lines) of each part the records have something for, in the letter's order."""
    patient = r.patient_name + (f" (date of birth {r.patient_dob})" if r.patient_dob else "")
    parts: list[tuple[str, list[str]]] = [("Patient", [patient]), ("Consultation", [r.note_date])]
    if r.to:
        parts.insert(0, ("To", [r.to]))
    if r.reason:
        parts.append(("Reason for referral", [r.reason]))
    if r.history:
        parts.append(("Relevant history", [r.history]))
    if r.allergies:
        parts.append(("Allergies", list(r.allergies)))
    if r.medications:
        parts.append(("Current medications", list(r.medications)))
    findings = [f"{label}: {value}" for label, value in r.vitals]
    if r.findings:
        findings.append(r.findings)
    if findings:
        parts.append(("Findings", findings))
    if r.clinician:
        parts.append(("Referring clinician", [r.clinician]))
    return parts


def render_text(referral: Referral) -> str:
    """The letter as plain text, for the doctor to edit; a part the records lack is left out."""
    blocks = ["Referral letter"]
    for heading, lines in _parts(referral):
        if heading in ("Allergies", "Current medications"):
            blocks.append(f"{heading}:\n" + "\n".join(f"- {line}" for line in lines))
        elif len(lines) == 1 and "\n" not in lines[0] and len(lines[0]) < 80:
            blocks.append(f"{heading}: {lines[0]}")
        else:
            blocks.append(f"{heading}:\n" + "\n".join(lines))
    return "\n\n".join(blocks) + "\n"


_CSS = """
body{font-family:"Noto Sans","DejaVu Sans",system-ui,sans-serif;margin:1.5em;color:#111;max-width:48em;
font-size:15px;line-height:1.45}
h1{font-size:1.5em;margin:0 0 .6em}
h2{font-size:1.1em;border-bottom:1px solid #333;margin:1.1em 0 .3em}
.letter{white-space:pre-wrap}
@media print{body{margin:0} h2{page-break-after:avoid}}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def render_html(referral: Referral) -> str:
    """The letter as one printable, self-contained HTML page (every value is escaped)."""
    body = ["<h1>Referral letter</h1>"]
    for heading, lines in _parts(referral):
        if heading in ("Allergies", "Current medications"):
            items = "".join(f"<li>{_e(line)}</li>" for line in lines)
            body.append(f"<h2>{_e(heading)}</h2><ul>{items}</ul>")
        else:
            body.append(f"<h2>{_e(heading)}</h2>" + "".join(f"<p class='letter'>{_e(line)}</p>" for line in lines))
    return _page(f"Referral letter: {referral.patient_name}", "".join(body))


def text_html(text: str, title: str = "Referral letter") -> str:
    """A letter as the doctor edited it, as a printable page (escaped, line breaks kept)."""
    return _page(title, f"<div class='letter'>{_e(text)}</div>")
