"""The shape every long-running worker process shares: log lines, build what it needs, stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from backend.domain.errors import CopilotError

T = TypeVar("T")


def serve(build: Callable[[], T], run: Callable[[T, threading.Event], object]) -> int:
    """Build the process's parts, then run them until SIGTERM or SIGINT sets the stop event.

    Args:
        build: makes what ``run`` needs; a CopilotError (e.g. a missing or wrong data key) ends the process
            with its message, not a traceback.
        run: consumes until the event it is given is set.

    Returns:
        The exit status: 2 when ``build`` failed, else 0.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(message)s")
    try:
        built = build()
    except CopilotError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(built, stop)
    return 0
