"""Health-data importers: each turns a file (or API responses) into a stream of sample frames.

:func:`detect_format` names the format from the first bytes (and the file name), so a PDF or a
photo is refused with a clear message before anything is read; :func:`read_samples` dispatches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import BinaryIO

import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog
from backend.formats.importers import apple_health, csv_long, csv_wide, fhir_observations, ultrahuman
from backend.formats.importers._json import MAX_JSON_BYTES, json_shape
from backend.formats.importers._text import is_text, split_header

FORMATS = {
    "csv_long": "CSV, long format (patient_id,timestamp,metric,value,unit)",
    "csv_wide": "CSV, wide daily format (date,resting_hr,hrv,...)",
    "ultrahuman": "Ultrahuman JSON",
    "apple_health": "Apple Health export.xml / export.zip",
    "fhir": "FHIR R4 Bundle of Observations (JSON)",
}
ACCEPTED = "a CSV (long or wide template), Ultrahuman JSON, Apple Health export.xml/zip or a FHIR Bundle (JSON)"
_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a WAV/RIFF media file"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"\x1a\x45\xdf\xa3", "a WebM/Matroska media file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
]
HEAD_BYTES = 64 * 1024


def detect_format(head: bytes, filename: str = "") -> str:
    """The format of a file from its first bytes (and name).

    Raises:
        UnsupportedInput: a type we do not import, named in the message with what we accept.
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnsupportedInput(f"'{filename or 'This file'}' is {what}, not health data. Upload {ACCEPTED}.")
    if head.startswith(b"PK\x03\x04"):
        if b"export.xml" in head or filename.lower().endswith("export.zip"):
            return "apple_health"
        raise UnsupportedInput(
            f"'{filename or 'This file'}' is a zip archive (or an Excel/Word file). "
            f"Save spreadsheets as CSV; upload {ACCEPTED}."
        )
    if not is_text(head):
        raise UnsupportedInput(f"'{filename or 'This file'}' is binary, not text. Upload {ACCEPTED}.")
    text = head.decode("utf-8-sig", errors="ignore").lstrip()
    if text.startswith("<"):
        if apple_health.sniff_apple(head):
            return "apple_health"
        raise UnsupportedInput(
            "This XML is not an Apple Health export (no <HealthData>). Upload export.xml from the Health app."
        )
    if text.startswith(("{", "[")):
        if '"resourceType"' in text:
            return "fhir"
        return "ultrahuman"
    if not text.strip():
        raise UnsupportedInput(f"'{filename or 'This file'}' is empty.")
    first_line = text.splitlines()[0]
    delimiter = max(",;\t", key=first_line.count)
    names = {split_header(c.strip('"'))[0] for c in first_line.split(delimiter)}
    if {"metric", "value"} <= names:
        return "csv_long"
    if names & {"date", "day"}:
        return "csv_wide"
    raise UnsupportedInput(
        f"The first line of '{filename or 'this file'}' ({first_line[:80]!r}) is not a header we know. "
        "Use the long template (patient_id,timestamp,metric,value,unit) or the wide one (date,resting_hr,hrv,...)."
    )


def read_samples(stream: BinaryIO, fmt: str, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Stream sample frames of ``stream`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "csv_long":
        yield from csv_long.read_csv_long(stream, log, tz)
    elif fmt == "csv_wide":
        yield from csv_wide.read_csv_wide(stream, log, tz)
    elif fmt == "apple_health":
        yield from apple_health.read_apple_health(stream, log)
    elif fmt in ("ultrahuman", "fhir"):
        shape = json_shape(stream, ACCEPTED)
        if fmt == "fhir" or "resourceType" in shape.keys:
            yield from fhir_observations.read_fhir(stream, log, tz, shape)
        else:
            yield from ultrahuman.read_ultrahuman_json(stream, log, tz, shape)
    else:
        raise UnsupportedInput(f"Unknown import format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")


__all__ = ["ACCEPTED", "FORMATS", "HEAD_BYTES", "MAX_JSON_BYTES", "detect_format", "read_samples"]
