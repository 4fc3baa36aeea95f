"""One bounded wait for tests that watch another process or thread (a worker, a queue, a ledger file).

The bound only stops a broken test from hanging; it is never what a test asserts on. Polling is the only
option when the other side is a separate process with no event to wait on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

POLL_S = 0.1


def wait_until(predicate: Callable[[], bool], bound_s: float, what: str) -> None:
    """Return as soon as ``predicate()`` holds; fail the test naming ``what`` if it still does not after ``bound_s``.

    Args:
        predicate: the condition, read again every ``POLL_S`` seconds.
        bound_s: seconds after which the test fails (wide: machines running the suite are often busy).
        what: what was awaited, for the failure message ("the worker to claim the job").
    """
    deadline = time.monotonic() + bound_s
    pause = threading.Event()  # never set: waits POLL_S between reads
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {bound_s:.0f} s waiting for {what}")
        pause.wait(POLL_S)
