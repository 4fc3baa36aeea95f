"""The daily wearable sync in the local worker: a thread that runs yesterday's sync at ``COPILOT_SYNC_AT``.

On AWS, EventBridge Scheduler starts ``python -m backend sync wearables`` instead; both call
:func:`backend.services.wearable_sync.sync_wearables`, whose lease row makes a day run at most once across every
process of the clinic. That lease is also this thread's memory: after a restart (or a machine that was off at the
sync time) the day is still due and not done, so it runs at once — the catch-up. A run with failed patients is
retried a few times an hour apart (only the failed patients are fetched again); then the day is left as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo

from backend.bootstrap import App
from backend.domain.errors import CopilotError
from backend.domain.leases import process_owner
from backend.domain.models import now_ms
from backend.domain.sync_schedule import due_day, next_due, parse_at, zone
from backend.services.wearable_sync import SyncReport, WearableSyncDeps, sync_wearables

log = logging.getLogger(__name__)
RETRY_S = 3600.0  # a run with failures (or a day another process holds) is looked at again after this
MAX_RUNS = 4  # runs of one day by this process before it leaves the day as it is


def sync_deps(app: App) -> WearableSyncDeps | None:
    """The sync's dependencies built from ``app``'s settings; None when no Ultrahuman partner token is set."""
    from backend.adapters.wearables.ultrahuman_api import UltrahumanClient

    secret = app.settings.ultrahuman_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        return None
    client = UltrahumanClient(app.settings.ultrahuman_url, token)
    return WearableSyncDeps(app.stores, app.blobs, client, now_ms, owner=process_owner())


@dataclass
class DailySync:
    """When to run the daily sync, step by step (the clock and the run are injected, so tests drive it)."""

    run: Callable[[date], SyncReport]
    at: time
    tz: tzinfo
    now: Callable[[], datetime]  # an aware datetime
    retry_s: float = RETRY_S
    max_runs: int = MAX_RUNS
    settled: set[date] = field(default_factory=set)  # days this process will not run again
    runs: dict[date, int] = field(default_factory=dict)

    def step(self) -> float:
        """Run the due day if it is not settled; the seconds to wait before the next step."""
        now = self.now()
        until_next = max(1.0, (next_due(now, self.at, self.tz) - now).total_seconds())
        day = due_day(now, self.at, self.tz)
        if day is None or day in self.settled:
            return until_next
        self.runs[day] = self.runs.get(day, 0) + 1
        try:
            report = self.run(day)
        except CopilotError as e:  # the store is down, say: try again later, like a failed run
            log.warning("daily wearable sync of %s could not run: %s", day, e.message)
            report = None
        if report is not None:
            log.info("daily wearable sync of %s: %s", day, report.note)
        finished = report is not None and not report.failed and (report.ran or report.already_done)
        if finished or self.runs[day] >= self.max_runs:
            self.settled.add(day)
            return until_next
        return min(self.retry_s, until_next)


def start_daily_sync(app: App, stop: threading.Event) -> threading.Thread | None:
    """Start the sync thread of the local worker when a partner token is set and ``sync_at`` is not ``off``."""
    if app.settings.sync_at.strip().lower() == "off":
        return None
    deps = sync_deps(app)
    if deps is None:
        return None
    try:
        schedule = DailySync(
            run=lambda day: sync_wearables(deps, day),
            at=parse_at(app.settings.sync_at),
            tz=zone(app.settings.sync_timezone),
            now=lambda: datetime.now().astimezone(),
        )
    except CopilotError as e:
        log.error("daily wearable sync not started: %s", e.message)
        return None

    def loop() -> None:
        while not stop.is_set():
            try:
                wait = schedule.step()
            except Exception:  # a bug in one run must not end the schedule; the trace goes to the log
                log.exception("daily wearable sync step failed")
                wait = RETRY_S
            stop.wait(wait)

    thread = threading.Thread(target=loop, name="copilot-wearable-sync", daemon=True)
    thread.start()
    return thread
