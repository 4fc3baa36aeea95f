"""A client of ``GET /v1/events`` for tests: an SSE reader in a thread, each event (or comment) put on a queue.

The reader ends quietly when its server closes the connection (a test's server stops while the reader still
waits for the next line; the chunked body then ends without its last chunk): it puts ``{"closed": reason}``
and sets ``ended``, instead of dying with an exception that pytest can only report as a warning about some
later test.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2

BOUND_S = 30.0  # a bound that stops a broken test, never what a test asserts on


@dataclass
class Stream:
    """An SSE reader in a thread: each parsed event (or comment) lands on ``items``; ``ended`` is set at its end."""

    url: str
    headers: dict[str, str]
    items: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    status: queue.Queue[int] = field(default_factory=queue.Queue)
    ended: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._run, daemon=True, name="sse-stream").start()
        return self

    def _run(self) -> None:
        try:
            self._read()
        except httpx2.TransportError as e:  # the server closed (or never took) the connection: the stream is over
            if not self._stop.is_set():
                self.items.put({"closed": f"{type(e).__name__}: {e}"})
        finally:
            self.ended.set()

    def _read(self) -> None:
        with httpx2.stream("GET", self.url + "/v1/events", headers=self.headers, timeout=BOUND_S) as response:
            self.status.put(response.status_code)
            if response.status_code != 200:
                response.read()
                self.items.put({"body": response.json(), "content_type": response.headers["content-type"]})
                return
            assert response.headers["content-type"].startswith("text/event-stream")
            frame: dict[str, Any] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.items.put({"comment": line[1:].strip()})
                elif line.startswith("id: "):
                    frame["id"] = int(line[4:])
                elif line.startswith("event: "):
                    frame["event"] = line[7:]
                elif line.startswith("data: "):
                    frame["data"] = json.loads(line[6:])
                elif line == "" and frame:
                    self.items.put(frame)
                    frame = {}

    def next_event(self) -> dict[str, Any]:
        """The next event (comments skipped), within the bound."""
        while True:
            item = self.items.get(timeout=BOUND_S)
            if "comment" not in item:
                return item

    def wait_open(self) -> None:
        assert self.status.get(timeout=BOUND_S) == 200
        item = self.items.get(timeout=BOUND_S)
        assert item["comment"].startswith("stream opened"), item

    def close(self) -> None:
        """Stop reading (at the next line the server sends: a keep-alive comes within its interval)."""
        self._stop.set()
