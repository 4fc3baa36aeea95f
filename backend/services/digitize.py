"""Digitize: a photo or PDF of a prescription becomes an editable, verified medication list.

Reading is separate from saving: the clinician reviews and edits what was read,
then saving stores the original document (blob first), its text and the list.

Right patient, right date: reading also checks who the document names against the selected patient;
a document that names someone else is saved only after the clinician confirms (audited, like a cancel),
and the document's own date, once the clinician confirms it, dates the timeline entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backend.domain.document_identity import (
    IdentityCheck,
    compare_identity,
    describe,
    describe_patient,
    read_identity,
)
from backend.domain.errors import ProviderUnavailable, UnsupportedInput, ValidationFailed
from backend.domain.limits import DEFAULT_LIMITS, Limits
from backend.domain.medications import parse_line
from backend.domain.models import HistoryEntry, Medication, Patient
from backend.ports import BlobStore, MedicationExtractor, OcrEngine, OcrLine, RecordStore, call_fallback
from backend.services.access import Permission, Principal, record, require
from backend.services.retention import release_blob

MAX_MEDICATIONS = 100


@dataclass(frozen=True)
class DigitizeDeps:
    stores: RecordStore
    blobs: BlobStore
    ocr: Callable[[], OcrEngine]  # built lazily: the engine loads once per process
    load_document: Callable[..., list[Any]]  # bytes -> pages (validates type, size, page count)
    read_pages: Callable[[list[Any], OcrEngine], Any]  # pages, engine -> DocumentText
    mime_of: Callable[[bytes], str]  # content type from the bytes (never from the file name)
    extract: MedicationExtractor | None = None  # an LLM extractor, grounded in the text
    limits: Limits = DEFAULT_LIMITS  # document pages and size; deliveries of a document job
    region: str = "IN"  # the clinic's region: phone numbers and the order of day and month in dates
    today: Callable[[], date] = date.today


@dataclass(frozen=True)
class FoundMedication:
    medication: Medication
    page: int
    box: tuple[tuple[float, float], ...]


@dataclass
class Reading:
    """What was read from one document, before the clinician saves it."""

    filename: str
    mime: str
    pages: list[Any]  # PageResult: index, lines, text, source, size, image_preview
    text: str
    found: list[FoundMedication] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # LLM items not printed in the document (removed)
    banner: str = ""  # set when the cloud extractor failed and the offline parser took over
    patient_id: str = ""  # the patient the identity was checked against
    identity: IdentityCheck | None = None  # who and when the document says, compared with that patient

    @property
    def medications(self) -> list[Medication]:
        return [f.medication for f in self.found]


def read_document(deps: DigitizeDeps, principal: Principal, patient_id: str, data: bytes, filename: str) -> Reading:
    """OCR (or read the text layer of) a document and parse its medication lines. Stores nothing."""
    require(principal, Permission.DIGITIZE)
    patient = deps.stores.patients.get(patient_id)
    pages = deps.load_document(
        data, filename, max_pages=deps.limits.max_document_pages, max_bytes=deps.limits.max_document_bytes
    )
    mime = deps.mime_of(data)
    engine = deps.ocr()
    document = deps.read_pages(pages, engine)
    if not document.full_text.strip():
        raise UnsupportedInput(
            "No text could be read from this document. Retake the photo flat, in good light and in focus, or upload a clearer scan."
        )
    found = [
        FoundMedication(med, page.index, line.box)
        for page in document.pages
        for line in page.lines
        if (med := _parse(line)) is not None
    ][:MAX_MEDICATIONS]
    unsupported: list[str] = []
    banner = call_fallback(engine) or ""  # cloud OCR failed: the offline engine read it
    if deps.extract is not None:
        try:
            meds, unsupported = deps.extract(document.full_text)
        except ProviderUnavailable as e:
            extractor = f"The cloud extractor is unavailable ({e.message}); the offline parser read this document."
            banner = f"{banner} {extractor}".strip()
        else:
            found = [_locate(m, document.pages) for m in meds][:MAX_MEDICATIONS]
    today = deps.today()
    check = compare_identity(read_identity(document.full_text, deps.region, today), patient, today)
    record(
        deps.stores.audit,
        principal,
        "digitize.read",
        patient_id,
        f"{len(document.pages)} page(s), {len(found)} medication(s), identity {check.status}"
        + (f" ({','.join(check.disagreeing)})" if check.disagreeing else ""),
    )
    return Reading(
        filename=filename[:200],
        mime=mime,
        pages=list(document.pages),
        text=document.full_text,
        found=found,
        unsupported=unsupported,
        banner=banner,
        patient_id=patient_id,
        identity=check,
    )


def _locate(med: Medication, pages: list[Any]) -> FoundMedication:
    """Page and box of the OCR line that holds the medication's words (for the overlay)."""
    needle = (med.verbatim or med.name).lower()
    for page in pages:
        for line in page.lines:
            if needle and needle in line.text.lower():
                return FoundMedication(med, page.index, line.box)
    return FoundMedication(med, 0, ())


def _parse(line: OcrLine) -> Medication | None:
    med = parse_line(line.text)
    if med is None:
        return None
    return med.model_copy(update={"evidence": med.evidence.model_copy(update={"quote": line.text})})


def mismatch_summary(reading: Reading, patient: Patient, today: date | None = None) -> str:
    """ "This document is for Kavita Joshi, 52 F — you selected Sita Devi, 34 F." ("" unless a mismatch).

    The selected patient's age is given on the document's date (today when it has none), as it was compared.
    """
    check = reading.identity
    if check is None or check.status != "mismatch":
        return ""
    on = check.identity.date.day if check.identity.date is not None else (today or date.today())
    return f"This document is for {describe(check.identity)} — you selected {describe_patient(patient, on)}."


def _identity_detail(check: IdentityCheck) -> str:
    # Field names only: what the document says about a person stays out of the audit trail.
    return f"fields={','.join(check.disagreeing)}"


def cancel_mismatch(deps: DigitizeDeps, principal: Principal, patient_id: str, reading: Reading) -> None:
    """The clinician saw that the document names someone else and did not save it (audited)."""
    require(principal, Permission.DIGITIZE)
    check = reading.identity
    detail = _identity_detail(check) if check is not None else ""
    record(deps.stores.audit, principal, "digitize.identity_cancelled", patient_id, detail)


def _check_document_date(day: date | None, today: date) -> str | None:
    if day is None:
        return None
    if day > today:
        raise ValidationFailed(f"The document's date {day.isoformat()} is in the future; check the day and month.")
    if day.year < 1900:
        raise ValidationFailed(f"The document's date {day.isoformat()} is before 1900; check the year.")
    return day.isoformat()


def save_digitized(
    deps: DigitizeDeps,
    principal: Principal,
    patient_id: str,
    data: bytes,
    reading: Reading,
    medications: list[Medication],
    *,
    document_date: date | None = None,
    confirm_patient: bool = False,
) -> HistoryEntry:
    """Store the original (blob first, so no record ever points at a missing file), then the history entry.

    If the entry cannot be written, the original is deleted again unless another record names the same bytes.

    Args:
        deps: the digitize ports.
        principal: the signed-in user (needs DIGITIZE).
        patient_id: whose history.
        data: the document's bytes.
        reading: what :func:`read_document` gave for this patient.
        medications: the list as the clinician edited it.
        document_date: the document's own date as the clinician confirmed it; the timeline shows the entry
            on that day (the upload time stays the entry's key). None: dated by the upload.
        confirm_patient: the clinician confirmed that a document naming someone else belongs to this patient.

    Raises:
        ValidationFailed: the reading was checked against another patient, the document names someone else
            and ``confirm_patient`` is not set, a future or implausible date, or too many medications.
    """
    require(principal, Permission.DIGITIZE)
    patient = deps.stores.patients.get(patient_id)
    if reading.patient_id and reading.patient_id != patient_id:
        raise ValidationFailed("This document was read for another patient; read it again for this patient.")
    if len(medications) > MAX_MEDICATIONS:
        raise ValidationFailed(f"The list has {len(medications)} medications; the limit is {MAX_MEDICATIONS}.")
    dated = _check_document_date(document_date, deps.today())
    check = reading.identity
    mismatch = check is not None and check.status == "mismatch"
    if mismatch and not confirm_patient:
        raise ValidationFailed(
            f"{mismatch_summary(reading, patient, deps.today())} Confirm that it belongs to {patient.name}, or cancel."
        )
    key = deps.blobs.put(data, content_type=reading.mime, prefix="documents")
    source = "digitize:pdf" if reading.mime == "application/pdf" else "digitize:image"
    try:
        entry = deps.stores.history.add(
            HistoryEntry(
                patient_id=patient_id,
                source=source,
                medications=medications,
                document_key=key,
                document_mime=reading.mime,
                extracted_text=reading.text[:100_000],
                author=principal.username,
                document_date=dated,
            )
        )
    except Exception:
        # No record names the original: don't leave it behind. If the census fails too, the write's error is the
        # one to show, and the file stays (never deleted unchecked) for ``blobs orphans`` to find.
        with contextlib.suppress(Exception):
            release_blob(deps.stores, deps.blobs, key)
        raise
    if mismatch and check is not None:
        record(
            deps.stores.audit,
            principal,
            "digitize.identity_confirmed",
            patient_id,
            f"{entry.timestamp} {_identity_detail(check)}",
        )
    record(
        deps.stores.audit,
        principal,
        "digitize.save",
        patient_id,
        f"{entry.timestamp} {len(medications)} medication(s)" + (" dated by the document" if dated else ""),
    )
    return entry
