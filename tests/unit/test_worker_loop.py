"""The worker loop on the fake queue: ack on success, release on error, and the heartbeat as the keep-alive.

The queue's visibility timeouts run on a fake clock; the heartbeat is a real thread, so the test waits for its
extensions (bounded events), never for time to pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from backend.worker.loop import run_worker
from tests.fakes.clock import FakeClock
from tests.fakes.queue import FakeQueue

VISIBILITY_S = 2


def _worker(queue: FakeQueue, handle: Callable[[str], None], max_jobs: int, release_on_error: bool = True) -> int:
    return run_worker(
        queue,
        handle,
        threading.Event(),
        heartbeat_seconds=0.01,
        visibility_seconds=VISIBILITY_S,
        wait_seconds=0,
        max_jobs=max_jobs,
        release_on_error=release_on_error,
    )


def test_each_job_is_handled_and_acked() -> None:
    queue = FakeQueue(FakeClock())
    for job_id in ("job-a", "job-b", "job-c"):
        queue.send(job_id)
    seen: list[str] = []
    assert _worker(queue, seen.append, max_jobs=3) == 3
    assert seen == ["job-a", "job-b", "job-c"] and queue.depth() == 0


def test_a_failed_job_is_released_for_a_retry_at_once() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("job-flaky")
    attempts: list[str] = []

    def flaky(job_id: str) -> None:
        attempts.append(job_id)
        if len(attempts) == 1:
            raise RuntimeError("engine crashed")

    assert _worker(queue, flaky, max_jobs=2) == 1  # the retry came straight back, no time passed
    assert attempts == ["job-flaky", "job-flaky"] and queue.depth() == 0


def test_without_release_a_failed_job_waits_for_its_visibility_timeout() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock)
    queue.send("job-x")

    def boom(job_id: str) -> None:
        raise RuntimeError("cannot decode")

    assert _worker(queue, boom, max_jobs=1, release_on_error=False) == 0
    assert queue.receive(wait_seconds=0) is None  # hidden: the failure is retried later, not hot-looped
    clock.pass_seconds(VISIBILITY_S + 1)
    again = queue.receive(wait_seconds=0)
    assert again is not None and again.receive_count == 2


def test_the_heartbeat_keeps_a_long_job_from_every_other_worker() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock)
    queue.send("job-long")
    peeks: list[object] = []

    def long_job(job_id: str) -> None:
        for _ in range(4):  # four visibility timeouts of work on the queue's clock
            clock.pass_seconds(VISIBILITY_S)
            # The second extension from now started after the clock moved (the first may have read it before).
            assert queue.wait_extensions(queue.extensions + 2), "the heartbeat stopped extending"
            peeks.append(queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S))

    assert _worker(queue, long_job, max_jobs=1) == 1
    assert peeks == [None] * 4 and queue.depth() == 0


def test_a_dead_workers_message_comes_back_once_the_heartbeat_stops() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock)
    queue.send("job-1")
    held = queue.receive(wait_seconds=0, visibility_seconds=VISIBILITY_S)  # a worker that then dies: no heartbeat
    assert held is not None
    clock.pass_seconds(VISIBILITY_S + 1)
    seen: list[str] = []
    assert _worker(queue, seen.append, max_jobs=1) == 1
    assert seen == ["job-1"] and queue.depth() == 0
    queue.ack(held)  # the dead worker's receipt is stale: nothing left to remove, nothing breaks


def test_a_heartbeat_slower_than_the_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="heartbeat_seconds must be shorter"):
        run_worker(FakeQueue(), lambda _: None, threading.Event(), heartbeat_seconds=5, visibility_seconds=5)
