"""Uploads to the API: a file read within its size limit (413 before the whole body is held in memory), then
submitted as a job once per ``Idempotency-Key`` (202 with the job), the same way for recordings and documents.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, UploadFile, status
from fastapi.responses import Response

from backend.api.idempotency import Outcome, run_once, upload_content
from backend.api.schemas import JobAccepted, Problem
from backend.services.access import Principal

_CHUNK = 1024 * 1024


def read_limited(upload: UploadFile, max_bytes: int, what: str) -> bytes:
    """The file's bytes, or 413 when it is over ``max_bytes`` (``what`` names the limit's setting)."""
    parts: list[bytes] = []
    size = 0
    while chunk := upload.file.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"The file is over {max_bytes // (1024 * 1024)} MB, the limit for {what}: split or compress it.",
            )
        parts.append(chunk)
    return b"".join(parts)


UPLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"description": "The file is over the size limit", "model": Problem},
    415: {"description": "Not a file of a supported type, or damaged", "model": Problem},
}


def accept_upload(
    request: Request,
    principal: Principal,
    idempotency_key: str | None,
    upload: UploadFile,
    *,
    max_bytes: int,
    limit_name: str,
    default_name: str,
    submit: Callable[[bytes, str], JobAccepted],
) -> Response:
    """Read ``upload`` within ``max_bytes`` and ``submit(data, filename)`` it once per key: 202, Location its job.

    Args:
        idempotency_key: the ``Idempotency-Key`` header: a retried upload with the same key queues no second job.
        limit_name: names the limit's setting in the 413 (e.g. ``recordings (COPILOT_MAX_UPLOAD_MB)``).
        default_name: the file's name when the client sent none.
        submit: the service call; its answer says where to poll the job (``status_url``).
    """
    data = read_limited(upload, max_bytes, limit_name)
    name = upload.filename or default_name

    def work() -> Outcome:
        accepted = submit(data, name)
        return Outcome(accepted, {"Location": accepted.status_url})

    return run_once(request, principal, idempotency_key, upload_content(name, data), status.HTTP_202_ACCEPTED, work)
