"""Reading an uploaded file with a size limit: 413 before the whole body is held in memory."""

from __future__ import annotations

from fastapi import HTTPException, UploadFile, status

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


UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    413: {"description": "The file is over the size limit"},
    415: {"description": "Not a file of a supported type, or damaged"},
}
