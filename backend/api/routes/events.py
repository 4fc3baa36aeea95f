"""/v1/events: server-sent events about the caller's patients (new drafts, signed notes, jobs, anomaly episodes).

The stream starts after the newest change, or after ``Last-Event-ID`` when a client reconnects, so nothing
between two connections is lost. One reader per process (:class:`~backend.api.feed_hub.FeedHub`) reads the feed
every ``POLL_S`` seconds while any stream is open and wakes every stream at once; a comment line every
``KEEPALIVE_S`` seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.api.auth import AppDep, PrincipalDep
from backend.api.errors import ERRORS
from backend.api.feed_hub import FeedHub
from backend.bootstrap import App
from backend.services.access import Principal
from backend.services.change_feed import Event, events_after, start_position

router = APIRouter(tags=["events"], responses=ERRORS)
POLL_S = 0.5
KEEPALIVE_S = 15.0
RETRY_MS = 3000
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "An endless event stream (SSE)"}
}


@router.get("/v1/events", response_class=StreamingResponse, responses=_STREAM)
async def stream_events(
    request: Request,
    app: AppDep,
    principal: PrincipalDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Live events: `note.drafted`, `note.signed`, `job.ready`, `job.failed`, `anomaly.episode`.

    Each event's `data` is JSON with `patient_id` and the record's `url`; reconnect with `Last-Event-ID` to
    resume after the last event received.
    """
    feed = app.stores.changes
    position = await run_in_threadpool(start_position, feed, principal, last_event_id)
    assert feed is not None  # start_position refuses a store without a feed
    return StreamingResponse(
        _frames(request, app, principal, position),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _hub(request: Request, app: App) -> FeedHub:
    """The process's feed reader (made on first use, in the event loop that serves every stream)."""
    hub: FeedHub | None = getattr(request.app.state, "feed_hub", None)
    if hub is None:
        assert app.stores.changes is not None
        hub = FeedHub(app.stores.changes, float(getattr(request.app.state, "events_poll_s", POLL_S)))
        request.app.state.feed_hub = hub
    return hub


async def _frames(request: Request, app: App, principal: Principal, position: int) -> AsyncIterator[str]:
    keepalive = float(getattr(request.app.state, "events_keepalive_s", KEEPALIVE_S))
    hub = _hub(request, app)
    episodes = app.episodes().episodes
    yield f"retry: {RETRY_MS}\n: stream opened after {position}\n\n"
    async with hub.subscribe(position):
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            events, reached = await run_in_threadpool(events_after, hub, principal, position, episodes)
            for event in events:
                yield _frame(event)
            if events:
                quiet_since = time.monotonic()
            if reached != position:
                position = reached
                continue  # more may be waiting (a full batch, or changes this role may not see)
            quiet = time.monotonic() - quiet_since
            if quiet >= keepalive:
                yield ": keep-alive\n\n"
                quiet_since, quiet = time.monotonic(), 0.0
            # Bounded, so that a closed connection is noticed within a second even on a quiet feed.
            await hub.wait_beyond(position, min(keepalive - quiet, 1.0))


def _frame(event: Event) -> str:
    data = json.dumps({"type": event.type, **event.data}, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"
