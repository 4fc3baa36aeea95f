"""The patient's after-visit summary of one signed note, as HTML or PDF. Audited (``export.visit_summary``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo

from backend.domain.errors import NotFound, ProviderUnavailable, ValidationFailed
from backend.domain.models import Note, NoteStatus
from backend.domain.visit_summary import DraftNotAllowed, VisitSummary, build_summary
from backend.domain.visit_summary_html import render_visit_summary
from backend.domain.visit_summary_lang import choose
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.auth import display_name
from backend.services.timeline import all_notes

FORMATS = ("html", "pdf")
# Renders a summary as a PDF document (built by bootstrap: fpdf2 with the Noto fonts).
PdfRenderer = Callable[[VisitSummary], bytes]


@dataclass(frozen=True)
class SummaryExport:
    """What was made: the page, the summary it shows, and the clinician's notices (language fallback, names)."""

    content: bytes
    media_type: str
    summary: VisitSummary
    note_timestamp: int


def pick_note(stores: RecordStore, patient_id: str, note_ts: int | None) -> Note:
    """The note asked for, or the patient's latest signed note.

    Raises:
        DraftNotAllowed (the note is a draft), NotFound (no such note, or no signed note).
    """
    if note_ts is not None:
        note = stores.notes.get(patient_id, note_ts)
        if note.status is not NoteStatus.SIGNED:
            raise DraftNotAllowed(
                "This note is a draft. Sign it first: a patient summary is made from signed notes only."
            )
        return note
    signed = [n for n in all_notes(stores, patient_id) if n.status is NoteStatus.SIGNED]
    if not signed:
        raise NotFound("This patient has no signed note yet; a patient summary is made from a signed note.")
    return max(signed, key=lambda n: n.timestamp)


def visit_summary(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    lang: str | None,
    fmt: str = "html",
    note_ts: int | None = None,
    pdf: PdfRenderer | None = None,
    tz: tzinfo = UTC,
) -> SummaryExport:
    """The after-visit summary of a signed note in ``lang`` (unknown: English, with a notice), as HTML or PDF.

    Args:
        pdf: the PDF renderer; needed only when ``fmt`` is ``"pdf"``.
        tz: the clinic's zone (``Settings.clinic_tz``): the visit's day and dates after it are its days.

    Raises:
        PermissionDenied (needs EXPORT), NotFound, DraftNotAllowed, ValidationFailed (unknown format),
        ProviderUnavailable (no PDF renderer, or a font of the PDF is not installed).
    """
    require(principal, Permission.EXPORT)
    if fmt not in FORMATS:
        raise ValidationFailed(f"Unknown summary format {fmt!r}: use html or pdf.")
    if fmt == "pdf" and pdf is None:
        raise ProviderUnavailable("PDF summaries are not available in this build; download the HTML page instead.")
    patient = stores.patients.get(patient_id)
    note = pick_note(stores, patient_id, note_ts)
    language, notice = choose(lang)
    summary = build_summary(note, patient.name, language, doctor=display_name(stores, note.signer), tz=tz)
    if notice:
        summary.notices.insert(0, notice)
    if fmt == "pdf" and pdf is not None:
        content, media_type = pdf(summary), "application/pdf"
    else:
        content, media_type = render_visit_summary(summary).encode("utf-8"), "text/html"
    record(
        stores.audit,
        principal,
        "export.visit_summary",
        patient_id,
        f"note={note.timestamp} lang={language.code} format={fmt}",
    )
    return SummaryExport(content, media_type, summary, note.timestamp)
