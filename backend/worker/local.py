"""The in-process worker of local mode: one daemon thread consuming the SQLite queue."""

from __future__ import annotations

import logging
import threading

from backend.bootstrap import App
from backend.services.scribe import resume_interrupted
from backend.worker.daily_sync import start_daily_sync
from backend.worker.loop import run_worker

log = logging.getLogger(__name__)


def start_local_worker(app: App) -> threading.Event:
    """Resume interrupted jobs, then consume the queue in background threads; returns the stop event."""
    resumed = resume_interrupted(app.scribe_deps())
    if resumed:
        log.info("resumed %d interrupted job(s)", resumed)
    stop = threading.Event()
    for n in range(max(1, app.settings.worker_threads)):
        threading.Thread(
            target=run_worker,
            args=(app.queue, app.handle_job, stop),
            kwargs={
                "heartbeat_seconds": app.limits.worker_heartbeat_seconds,
                "visibility_seconds": app.limits.worker_visibility_seconds,
                "wait_seconds": app.limits.local_worker_wait_seconds,
            },
            name=f"copilot-worker-{n}",
            daemon=True,
        ).start()
    start_daily_sync(app, stop)  # the daily wearable sync, when an Ultrahuman partner token is configured
    return stop
