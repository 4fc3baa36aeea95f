"""Digitize: a photo or PDF of a prescription becomes an editable, verified medication list.

Reading is separate from saving: the clinician reviews and edits what was read,
then saving stores the original document (blob first), its text and the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.domain.errors import ProviderUnavailable, UnsupportedInput, ValidationFailed
from backend.domain.medications import parse_line
from backend.domain.models import HistoryEntry, Medication
from backend.ports import BlobStore, OcrEngine, OcrLine, RecordStore, call_fallback
from backend.services.access import Permission, Principal, record, require

MAX_MEDICATIONS = 100


@dataclass(frozen=True)
class DigitizeDeps:
    stores: RecordStore
    blobs: BlobStore
    ocr: Callable[[], OcrEngine]  # built lazily: the engine loads once per process
    load_document: Callable[..., list[Any]]  # bytes -> pages (validates type, size, page count)
    read_pages: Callable[[list[Any], OcrEngine], Any]  # pages, engine -> DocumentText
    mime_of: Callable[[bytes], str]  # content type from the bytes (never from the file name)
    extract: Callable[[str], tuple[list[Medication], list[str]]] | None = None  # an LLM extractor, grounded in the text
    max_pages: int = 20
    max_bytes: int = 25 * 1024 * 1024


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

    @property
    def medications(self) -> list[Medication]:
        return [f.medication for f in self.found]


def read_document(deps: DigitizeDeps, principal: Principal, patient_id: str, data: bytes, filename: str) -> Reading:
    """OCR (or read the text layer of) a document and parse its medication lines. Stores nothing."""
    require(principal, Permission.DIGITIZE)
    deps.stores.patients.get(patient_id)
    pages = deps.load_document(data, filename, max_pages=deps.max_pages, max_bytes=deps.max_bytes)
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
    record(
        deps.stores.audit,
        principal,
        "digitize.read",
        patient_id,
        f"{len(document.pages)} page(s), {len(found)} medication(s)",
    )
    return Reading(
        filename=filename[:200],
        mime=mime,
        pages=list(document.pages),
        text=document.full_text,
        found=found,
        unsupported=unsupported,
        banner=banner,
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


def save_digitized(
    deps: DigitizeDeps,
    principal: Principal,
    patient_id: str,
    data: bytes,
    reading: Reading,
    medications: list[Medication],
) -> HistoryEntry:
    """Store the original (blob first, so no record ever points at a missing file), then the history entry."""
    require(principal, Permission.DIGITIZE)
    deps.stores.patients.get(patient_id)
    if len(medications) > MAX_MEDICATIONS:
        raise ValidationFailed(f"The list has {len(medications)} medications; the limit is {MAX_MEDICATIONS}.")
    key = deps.blobs.put(data, content_type=reading.mime, prefix="documents")
    source = "digitize:pdf" if reading.mime == "application/pdf" else "digitize:image"
    entry = deps.stores.history.add(
        HistoryEntry(
            patient_id=patient_id,
            source=source,
            medications=medications,
            document_key=key,
            document_mime=reading.mime,
            extracted_text=reading.text[:100_000],
            author=principal.username,
        )
    )
    record(
        deps.stores.audit, principal, "digitize.save", patient_id, f"{entry.timestamp} {len(medications)} medication(s)"
    )
    return entry
