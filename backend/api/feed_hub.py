"""One change-feed reader per process for every live-events stream: the reader polls, the streams wait.

Each connected ``/v1/events`` client used to poll the store itself; now a single task reads the feed while at
least one stream is open, keeps the recent changes in memory and wakes every waiting stream at once (an
``asyncio.Condition``). A stream reads its changes through :meth:`FeedHub.read_after`, a
:class:`~backend.ports.ChangeFeed` answered from memory, so each client still sees only the events its role may
(the services filter them as before) and resumes after its own ``Last-Event-ID``; a client resuming from before
what the hub holds reads those older changes from the store until it has caught up.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool

from backend.domain.changes import Change
from backend.domain.errors import CopilotError
from backend.ports import ChangeFeed

BATCH = 200
KEPT = 5_000  # changes kept in memory: a stream further behind than this reads from the store


class FeedHub:
    """The process's reader of one change feed.

    Args:
        feed: the record store's change feed.
        poll_s: seconds between reads while streams are open (the reader reads again at once after a full batch).
    """

    def __init__(self, feed: ChangeFeed, poll_s: float) -> None:
        self._feed = feed
        self._poll = poll_s
        self._lock = threading.Lock()  # read_after runs in worker threads, the reader in the event loop
        self._changes: list[Change] = []
        self._ids: list[int] = []
        self._floor = 0  # the hub holds every change above this id (up to its position)
        self._position = 0
        self._streams = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Condition | None = None

    @asynccontextmanager
    async def subscribe(self, position: int) -> AsyncIterator[None]:
        """Count one open stream, at ``position``; the reader runs while any is open.

        A reader that is not running starts at this stream's position: nothing is kept from an earlier run, and a
        later stream that resumes from before it reads those older changes from the store.
        """
        if self._wake is None:
            self._wake = asyncio.Condition()
        self._streams += 1
        try:
            if self._task is None or self._task.done():
                with self._lock:
                    self._changes, self._ids = [], []
                    self._floor = self._position = position
                self._task = asyncio.create_task(self._run())
            yield
        finally:
            self._streams -= 1

    async def wait_beyond(self, position: int, timeout_s: float) -> None:
        """Return once the hub has read past ``position``, or after ``timeout_s`` (for keep-alive comments)."""
        assert self._wake is not None, "subscribe first"
        async with self._wake:
            try:
                await asyncio.wait_for(self._wake.wait_for(lambda: self._position > position), timeout_s)
            except TimeoutError:
                return

    def read_after(self, after_id: int, limit: int = 100) -> list[Change]:
        """Changes above ``after_id`` that the hub has read (from the store when it holds them no more)."""
        with self._lock:
            if after_id >= self._floor:
                start = bisect.bisect_right(self._ids, after_id)
                return self._changes[start : start + limit]
        return self._feed.read_after(after_id, limit)  # a stream resuming from before what is kept: catch up

    def last_id(self) -> int:
        return self._feed.last_id()

    def append(self, changes: list[Change]) -> int:
        return self._feed.append(changes)

    async def _run(self) -> None:
        while self._streams > 0:
            try:
                changes = await run_in_threadpool(self._feed.read_after, self._position, BATCH)
            except CopilotError:  # the store is unavailable for now: the streams keep their keep-alives
                await asyncio.sleep(self._poll)
                continue
            if changes:
                with self._lock:
                    self._changes.extend(changes)
                    self._ids.extend(c.id for c in changes)
                    if len(self._changes) > KEPT:
                        dropped = len(self._changes) - KEPT
                        self._floor = self._ids[dropped - 1]
                        del self._changes[:dropped], self._ids[:dropped]
                    self._position = changes[-1].id
                assert self._wake is not None
                async with self._wake:
                    self._wake.notify_all()
            if len(changes) < BATCH:
                await asyncio.sleep(self._poll)
