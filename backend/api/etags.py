"""Optimistic concurrency over HTTP: a note's ``ETag`` is its version; ``If-Match`` on a write must name it.

``If-Match`` is optional: every write of a note already carries the ``version`` it was read at (a stale one
is a 409), so a client that sends neither header nor a fresh version cannot overwrite anyone. A client that
prefers HTTP preconditions sends ``If-Match`` with the ETag it read and gets 412 when the note changed since.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from backend.api.errors import ApiProblem

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description='The ETag you read (e.g. "3"): the write happens only if the note is still at it, else 412.',
    ),
]
PRECONDITION_RESPONSES: dict[int | str, dict[str, object]] = {
    412: {"description": "If-Match does not name the note's current ETag: read it again; code precondition_failed"},
}


def etag(version: int) -> str:
    """The strong ETag of a record at ``version``."""
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse (412 ``precondition_failed``) unless ``if_match`` is absent, ``*`` or lists the current ETag."""
    if if_match is None:
        return
    current = etag(version)
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise ApiProblem(
        412,
        "precondition_failed",
        f"If-Match {if_match.strip()[:60]} is not the note's current ETag {current}: read it again.",
        {"ETag": current},
    )
