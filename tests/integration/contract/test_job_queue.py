"""JobQueue contract: at-least-once delivery with visibility timeouts."""

from __future__ import annotations

from backend.ports import JobQueue
from tests.integration.contract.conftest import QueueClock


def test_send_receive_ack(job_queue: JobQueue) -> None:
    job_queue.send("job-1")
    message = job_queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None and message.job_id == "job-1" and message.receive_count == 1
    assert job_queue.receive(wait_seconds=0.1, visibility_seconds=30) is None  # hidden while in flight
    job_queue.ack(message)
    assert job_queue.receive(wait_seconds=0.1, visibility_seconds=30) is None


def test_release_makes_it_reappear_with_a_higher_count(job_queue: JobQueue) -> None:
    job_queue.send("job-2")
    first = job_queue.receive(wait_seconds=2, visibility_seconds=30)
    assert first is not None
    job_queue.release(first)
    second = job_queue.receive(wait_seconds=2, visibility_seconds=30)
    assert second is not None and second.job_id == "job-2" and second.receive_count == 2
    job_queue.ack(second)


def test_unacked_message_reappears_after_the_timeout_unless_extended(
    job_queue: JobQueue, queue_clock: QueueClock
) -> None:
    job_queue.send("job-3")
    message = job_queue.receive(wait_seconds=2, visibility_seconds=1)
    assert message is not None
    job_queue.extend(message, 4)
    queue_clock.pass_seconds(1.5)  # past the first timeout
    assert job_queue.receive(wait_seconds=0.1, visibility_seconds=30) is None  # extension held it
    queue_clock.pass_seconds(3.0)  # past the extension
    again = job_queue.receive(wait_seconds=5, visibility_seconds=30)
    assert again is not None and again.job_id == "job-3" and again.receive_count == 2
    job_queue.ack(again)


def test_many_jobs_each_delivered(job_queue: JobQueue) -> None:
    sent = {f"job-{i}" for i in range(10)}
    for job_id in sorted(sent):
        job_queue.send(job_id)
    got = set()
    for _ in range(10):
        message = job_queue.receive(wait_seconds=2, visibility_seconds=30)
        assert message is not None
        got.add(message.job_id)
        job_queue.ack(message)
    assert got == sent
