"""Background work of one app process: the local job worker (local queue mode only)."""

from __future__ import annotations

import logging
import threading

from backend.bootstrap import App

log = logging.getLogger(__name__)
_started: set[int] = set()
_lock = threading.Lock()


def start_background(app: App) -> None:
    """Start the in-process worker once per App when the queue is local (SQS mode runs `python -m backend.worker`)."""
    with _lock:
        if id(app) in _started or app.providers.get("queue") != "sqlite":
            return
        _started.add(id(app))
    try:
        from backend.services.jobs import start_local_worker
    except ImportError:  # the scribe pipeline is not installed in this build
        log.info("no job handlers registered; local worker not started")
        return
    start_local_worker(app)
