"""A document's reading as stored bytes: what the worker read, kept until the clinician saves or cancels it.

JSON, never pickle: the blob store is outside the process, and loading it must not run code. The identity
check is not stored; it is made again from the text when the reading is loaded (it is pure and quick, and
then compares with the patient's record as it is now).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from backend.domain.models import Medication
from backend.formats.documents import PageResult
from backend.ports import OcrLine
from backend.services.digitize import FoundMedication, Reading

FORMAT = 1


def _box(box: Any) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in box)


def _line(line: OcrLine) -> dict[str, Any]:
    return {"text": line.text, "box": [list(p) for p in line.box], "score": line.score, "page": line.page}


def _page(page: PageResult) -> dict[str, Any]:
    return {
        "index": page.index,
        "text": page.text,
        "source": page.source,
        "size": list(page.size),
        "seconds": page.seconds,
        "preview": base64.b64encode(page.image_preview).decode("ascii"),
        "lines": [_line(line) for line in page.lines],
    }


def encode_reading(reading: Reading, job_id: str) -> bytes:
    """The reading of job ``job_id`` as UTF-8 JSON (page previews base64), without its identity check.

    The job id makes each job's blob its own (keys are content-addressed): dropping one job's reading never
    removes another's of the same document.
    """
    body = {
        "format": FORMAT,
        "job_id": job_id,
        "filename": reading.filename,
        "mime": reading.mime,
        "text": reading.text,
        "patient_id": reading.patient_id,
        "banner": reading.banner,
        "unsupported": list(reading.unsupported),
        "found": [
            {"medication": f.medication.model_dump(mode="json"), "page": f.page, "box": [list(p) for p in f.box]}
            for f in reading.found
        ],
        "pages": [_page(p) for p in reading.pages],
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def decode_reading(data: bytes) -> Reading:
    """The reading stored by :func:`encode_reading` (``identity`` left None for the caller to check again).

    Raises:
        ValueError: not a stored reading of this format.
    """
    body = json.loads(data.decode("utf-8"))
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError("not a stored reading")
    pages = [
        PageResult(
            index=int(p["index"]),
            lines=tuple(
                OcrLine(str(ln["text"]), _box(ln["box"]), float(ln["score"]), int(ln["page"])) for ln in p["lines"]
            ),
            text=str(p["text"]),
            source="text-layer" if p["source"] == "text-layer" else "ocr",
            size=(int(p["size"][0]), int(p["size"][1])),
            image_preview=base64.b64decode(p["preview"]),
            seconds=float(p["seconds"]),
        )
        for p in body["pages"]
    ]
    found = [
        FoundMedication(Medication.model_validate(f["medication"]), int(f["page"]), _box(f["box"]))
        for f in body["found"]
    ]
    return Reading(
        filename=str(body["filename"]),
        mime=str(body["mime"]),
        pages=pages,
        text=str(body["text"]),
        found=found,
        unsupported=[str(u) for u in body["unsupported"]],
        banner=str(body["banner"]),
        patient_id=str(body["patient_id"]),
    )
