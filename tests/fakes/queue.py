"""An in-memory job queue with SQS-like visibility timeouts, on an injected clock.

Like the SQLite and SQS queues: a received message is hidden until its visibility timeout passes, each
receive gets a new receipt, and only the latest receipt can ack or extend it (an old holder's ack is a no-op).
``receive`` never waits: on a fake clock nothing would change while it waited.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from backend.ports import QueueMessage
from tests.fakes.clock import FakeClock


@dataclass
class _Row:
    job_id: str
    visible_at: float
    receipt: str = ""
    receive_count: int = 0


class FakeQueue:
    """Args: clock: epoch seconds the visibility timeouts are measured against (a :class:`FakeClock`)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or FakeClock()
        self._rows: dict[int, _Row] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()  # the worker's heartbeat extends from its own thread
        self._extended = threading.Condition(self._lock)
        self.extensions = 0  # successful extends, so a test can wait for the heartbeat's next one

    def send(self, job_id: str) -> None:
        with self._lock:
            self._rows[next(self._seq)] = _Row(job_id, self.clock())

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 120) -> QueueMessage | None:
        now = self.clock()
        with self._lock:
            for seq, row in sorted(self._rows.items()):
                if row.visible_at <= now:
                    row.visible_at, row.receipt = now + visibility_seconds, uuid.uuid4().hex
                    row.receive_count += 1
                    return QueueMessage(row.job_id, f"{seq}:{row.receipt}", row.receive_count)
        return None

    def ack(self, message: QueueMessage) -> None:
        with self._lock:
            seq = self._holding(message)
            if seq is not None:
                del self._rows[seq]

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        with self._lock:
            seq = self._holding(message)
            if seq is not None:
                self._rows[seq].visible_at = self.clock() + visibility_seconds
                self.extensions += 1
                self._extended.notify_all()

    def wait_extensions(self, count: int, bound_s: float = 30.0) -> bool:
        """True once ``count`` extends have happened in all (False after ``bound_s``: the heartbeat stopped)."""
        with self._extended:
            return self._extended.wait_for(lambda: self.extensions >= count, timeout=bound_s)

    def release(self, message: QueueMessage) -> None:
        self.extend(message, 0)

    def depth(self) -> int:
        """Messages waiting or in flight."""
        return len(self._rows)

    def _holding(self, message: QueueMessage) -> int | None:
        seq, _, receipt = message.receipt.partition(":")
        row = self._rows.get(int(seq)) if seq.isdigit() else None
        return int(seq) if row is not None and row.receipt == receipt else None
