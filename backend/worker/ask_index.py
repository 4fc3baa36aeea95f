"""The Ask index builder: a background thread that builds and refreshes patients' search indexes off the page.

Every process that answers questions (the Streamlit server, the REST API) runs one over its own index cache,
started with its other background work, with no configuration. It builds an index when a question found it
missing or stale (``AskIndexCache.want``), and follows the record store's change feed to rebuild the cached
indexes of patients whose notes, documents or health data changed, so the next question finds them fresh.
Without a change feed, only the questions' requests drive it (a question still notices a stale index itself).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from backend.bootstrap import App
from backend.domain.changes import Change, ChangeKind
from backend.ports import ChangeFeed, RecordStore
from backend.services.ask_index import AskIndexCache, MetricPassages, refresh_index

log = logging.getLogger(__name__)
FEED_POLL_S = 2.0  # how often the change feed is read when no question asks for an index
# Audit lines that mean a patient's history (documents, medication lists, referrals) gained an entry: the feed
# has no change kind of its own for history rows (rules as data).
HISTORY_WRITES = frozenset({"digitize.save", "referral.create"})


def changed_patients(changes: Iterable[Change]) -> list[str]:
    """The patients whose indexed records changed: notes, health data, or a history entry saved."""
    out: dict[str, None] = {}
    for c in changes:
        if not c.patient_id:
            continue
        if c.kind in (ChangeKind.NOTE, ChangeKind.METRICS) or (c.kind is ChangeKind.AUDIT and c.ref in HISTORY_WRITES):
            out[c.patient_id] = None
    return list(out)


@dataclass
class AskIndexer:
    """One step at a time (tests drive :meth:`step`; the thread loops over it)."""

    stores: RecordStore
    cache: AskIndexCache
    metric_passages: MetricPassages | None
    feed: ChangeFeed | None
    position: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    def step(self, wait_s: float) -> list[str]:
        """Build the requested indexes and refresh changed cached ones; the patients rebuilt."""
        todo = dict.fromkeys(self.cache.take_wanted(wait_s))
        if self.feed is not None:
            changes = self.feed.read_after(self.position, 500)
            if changes:
                self.position = changes[-1].id
            cached = set(self.cache.patients())
            todo.update(dict.fromkeys(p for p in changed_patients(changes) if p in cached))
        done = []
        for patient_id in todo:
            try:
                refresh_index(self.stores, patient_id, self.cache, self.metric_passages)
            except Exception:
                # One patient's failure must not stop the others; questions keep their quick fallback meanwhile.
                self.failures[patient_id] = self.failures.get(patient_id, 0) + 1
                log.exception("could not build the Ask index of patient %s", patient_id)
                continue
            done.append(patient_id)
        return done


def start_ask_indexer(app: App, stop: threading.Event | None = None) -> AskIndexer:
    """Start the builder thread for ``app``'s index cache; from then on questions read the cache (see ask_index)."""
    feed = app.stores.changes
    indexer = AskIndexer(
        app.stores, app.ask_cache(), app.episodes().metric_passages, feed, feed.last_id() if feed is not None else 0
    )
    indexer.cache.refreshed_in_background = True
    halt = stop or threading.Event()

    def run() -> None:
        while not halt.is_set():
            try:
                indexer.step(FEED_POLL_S)
            except Exception:  # the feed is unreachable, say: keep the thread, try again at the next poll
                log.exception("Ask index builder step failed")
                halt.wait(FEED_POLL_S)

    threading.Thread(target=run, name="copilot-ask-index", daemon=True).start()
    return indexer
