"""GET /v1/events with several clients over real HTTP: one feed reader per process serves them all.

The change feed is wrapped in a gate that counts its reads and lets each through only when the test says so:
one permitted read must bring a change to every connected stream (a poll loop per client would need a read per
client, and the test would stop at its bound). Each stream still gets only what its role may see.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.api.feed_hub import FeedHub
from backend.domain.changes import Change
from backend.domain.models import AuditEvent, JobStatus
from backend.ports import ChangeFeed
from tests.helpers.sse_stream import BOUND_S, Stream
from tests.helpers.waits import wait_until
from tests.integration.test_api_events import PID, Server, _finish, _job
from tests.integration.test_api_events import server as events_server

__all__ = ["events_server"]


class GatedFeed:
    """A real change feed whose reads are counted and wait for a permit (an honest counter, not a mock)."""

    def __init__(self, inner: ChangeFeed) -> None:
        self.inner = inner
        self.started = 0
        self.completed = 0
        self._permits = threading.Semaphore(0)
        self._open = threading.Event()
        self._lock = threading.Lock()

    def read_after(self, after_id: int, limit: int = 100) -> list[Change]:
        with self._lock:
            self.started += 1
        if not self._open.is_set() and not self._permits.acquire(timeout=BOUND_S):
            raise AssertionError("a read waited for a permit that never came")
        changes = self.inner.read_after(after_id, limit)
        with self._lock:
            self.completed += 1
        return changes

    def last_id(self) -> int:
        return self.inner.last_id()

    def append(self, changes: list[Change]) -> int:
        return self.inner.append(changes)

    def permit(self) -> None:
        self._permits.release()

    def open(self) -> None:
        self._open.set()
        self._permits.release()


@pytest.fixture
def gated(events_server: Server) -> Iterator[tuple[Server, GatedFeed]]:
    h = events_server.harness
    assert h.app.stores.changes is not None
    gate = GatedFeed(h.app.stores.changes)
    h.api.state.feed_hub = FeedHub(gate, poll_s=0.01)
    yield events_server, gate
    gate.open()  # let a reader still waiting go, so the server stops at once


def test_one_read_of_the_feed_reaches_every_connected_stream(gated: tuple[Server, GatedFeed]) -> None:
    server, gate = gated
    h = server.harness
    nurses = [Stream(server.url, h.auth("nurse")).start() for _ in range(2)]
    doctors = [Stream(server.url, h.auth("doctor")).start() for _ in range(2)]
    for stream in nurses + doctors:
        stream.wait_open()
    wait_until(lambda: gate.started == 1, BOUND_S, "the hub's first read")  # it waits for its permit

    h.app.stores.audit.append(AuditEvent(actor="doctor", role="doctor", action="note.sign", patient_id=PID))
    h.app.stores.jobs.add(_job())
    _finish(h, "JOB_0000000000000001", JobStatus.FAILED, "marker")
    gate.permit()  # exactly one read of the store

    for nurse in nurses:  # the activity line is not a nurse's to read: her first event is the job
        failed = nurse.next_event()
        assert failed["event"] == "job.failed" and failed["data"]["error"] == "marker"
    for doctor in doctors:  # doctors also read the audit trail: the sign-off's activity line comes first
        got = [doctor.next_event()]
        while got[-1]["event"] != "job.failed":
            got.append(doctor.next_event())
        actions = [e["data"]["action"] for e in got if e["event"] == "activity"]
        assert "note.sign" in actions and got[-1]["data"]["error"] == "marker"
    for stream in nurses + doctors:
        stream.close()
    assert gate.completed == 1  # four streams, one read
    assert gate.started <= 2  # and at most the reader's next read is waiting: no stream reads on its own


def test_a_stream_resuming_from_before_the_hub_started_catches_up_then_shares_the_reader(
    gated: tuple[Server, GatedFeed], tmp_path: Path
) -> None:
    server, gate = gated
    h = server.harness
    first = h.app.stores.changes
    assert first is not None
    h.app.stores.jobs.add(_job())
    _finish(h, "JOB_0000000000000001", JobStatus.FAILED, "before")
    before = first.last_id()
    gate.open()  # no gating here: this is about positions, not counts
    live = Stream(server.url, h.auth("nurse")).start()
    live.wait_open()
    wait_until(lambda: gate.started >= 1, BOUND_S, "the hub to start")
    resumed = Stream(server.url, {**h.auth("nurse"), "Last-Event-ID": str(before - 1)}).start()
    resumed.wait_open()
    assert resumed.next_event()["data"]["error"] == "before"  # from the store: older than the hub's start
    h.app.stores.jobs.add(_job(job_id="JOB_0000000000000002"))
    _finish(h, "JOB_0000000000000002", JobStatus.FAILED, "after")
    assert resumed.next_event()["data"]["error"] == "after"
    assert live.next_event()["data"]["error"] == "after"
    live.close()
    resumed.close()
