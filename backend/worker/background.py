"""Background work of one app process: the Ask index builder, and the local job worker (local queue mode only)."""

from __future__ import annotations

import logging
import threading

from backend.bootstrap import App
from backend.services.data_lock import DataDirLock

log = logging.getLogger(__name__)
_started: set[int] = set()
_lock = threading.Lock()


def start_background(app: App) -> None:
    """Start the Ask index builder once per App, and the in-process worker when the queue is local (SQS mode runs
    `python -m backend.worker`).

    A process running on a local SQLite data dir also holds its shared lock, so a restore refuses while it runs.
    """
    if app.providers.get("store") == "sqlite":
        DataDirLock(app.settings.data_dir).hold_shared()
    with _lock:
        if id(app) in _started:
            return
        _started.add(id(app))
    # Every process that answers questions keeps its Ask indexes built off the request path (any queue mode).
    from backend.worker.ask_index import start_ask_indexer

    start_ask_indexer(app)
    if app.providers.get("queue") != "sqlite":
        return
    try:
        from backend.worker.local import start_local_worker
    except ImportError:  # the scribe pipeline is not installed in this build
        log.info("no job handlers registered; local worker not started")
        return
    start_local_worker(app)
