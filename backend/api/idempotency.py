"""Safe retries: a POST that creates something, sent again with the same ``Idempotency-Key``, gets the first answer.

A mobile app that lost the response to "register this patient" or "here is the recording" sends the request
again with the same key; the API answers with the first response (``Idempotent-Replayed: true``) and does the
work once. Keys are per caller and kept 24 hours in the record store, so any API process answers the retry.

- the same key with a different request (method, path or body) -> 422 ``idempotency_key_reused``;
- the same key while the first request still runs -> 409 ``idempotency_in_progress`` (retry after a moment);
- only successful (2xx) answers are kept: a refused request (4xx) keeps nothing, so its retry is judged again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from backend.api.errors import ApiProblem
from backend.domain.errors import StoreUnavailable
from backend.domain.idempotency import IdempotencyRecord, fingerprint, scoped_key
from backend.domain.models import now_ms
from backend.ports import IdempotencyStore
from backend.services.access import Principal

DAY_MS = 24 * 60 * 60 * 1000
RUNNING_MS = 10 * 60 * 1000  # a claim outlives the slowest upload; a crashed process's claim then lapses
REPLAYED = "Idempotent-Replayed"
_log = logging.getLogger(__name__)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique value per operation (a UUID): a retry with the same key returns the first "
        "response instead of doing the work twice. Kept 24 hours.",
        examples=["5f1c0a9e-8f5e-4c5e-9d2a-3b7f1e0c6a41"],
    ),
]


@dataclass(frozen=True)
class Outcome:
    """What a route's work returned: the body, and headers to send (and replay) with it."""

    body: BaseModel
    headers: dict[str, str] | None = None


@dataclass
class Idempotency:
    """The store and clock behind :func:`run_once` (one per app; tests pass their own clock)."""

    store: IdempotencyStore
    clock: Callable[[], int] = now_ms
    keep_ms: int = DAY_MS


def run_once(
    request: Request,
    principal: Principal,
    key: str | None,
    content: bytes,
    status_code: int,
    work: Callable[[], Outcome],
) -> Response:
    """Do ``work`` once per ``key`` (always, without a key) and answer with its outcome, or the stored one.

    Args:
        request: the request (its app's :class:`Idempotency`, method and path).
        principal: the caller (keys are scoped to them).
        key: the ``Idempotency-Key`` header, or None.
        content: the request's body as parsed (its canonical JSON, or an upload's bytes and name).
        status_code: the success status of the route.
        work: the route's work; a raised error releases the key and propagates.
    """
    if key is None:
        return _response(status_code, work())
    keeper: Idempotency = request.app.state.idempotency
    now = keeper.clock()
    scoped = scoped_key(principal.username, key)
    request_print = fingerprint(request.method, request.url.path, content)
    found = keeper.store.claim(IdempotencyRecord(scoped, request_print, now + RUNNING_MS), now)
    if found is not None:
        return _replay(found, request_print)
    try:
        outcome = work()
    except BaseException:
        keeper.store.release(scoped, request_print)
        raise
    response = _response(status_code, outcome)
    done = IdempotencyRecord(
        scoped,
        request_print,
        keeper.clock() + keeper.keep_ms,
        status_code,
        bytes(response.body).decode(),
        outcome.headers or {},
    )
    try:
        keeper.store.complete(done)
    except StoreUnavailable:
        # The work is done: answer it. A retry then finds the claim pending (409) until it lapses.
        _log.warning("could not keep the answer of an idempotent request (the record store is unavailable)")
    return response


def json_content(body: BaseModel) -> bytes:
    """A JSON body's canonical bytes: a retry that orders its keys differently is the same request."""
    return json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()


def upload_content(filename: str, data: bytes, *extra: str) -> bytes:
    """An upload's identity: its name, bytes and any other form fields."""
    return json.dumps([filename, *extra]).encode() + b"\n" + data


def _response(status_code: int, outcome: Outcome) -> JSONResponse:
    return JSONResponse(outcome.body.model_dump(mode="json"), status_code=status_code, headers=outcome.headers)


def _replay(found: IdempotencyRecord, request_print: str) -> Response:
    if found.fingerprint != request_print:
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request: use a new key for each operation.",
        )
    if found.pending or found.status is None:
        raise ApiProblem(
            409,
            "idempotency_in_progress",
            "The first request with this Idempotency-Key is still running: retry in a moment.",
            {"Retry-After": "1"},
        )
    headers = {**found.headers, REPLAYED: "true"}
    return Response(found.body, status_code=found.status, headers=headers, media_type="application/json")
