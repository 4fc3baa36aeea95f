"""Workers against SQS (moto server): parallel draining, crash recovery, dead-letter queue.

Visibility timeouts on moto run on the server's clock, so the tests that need one to pass give it wide margins.
The heartbeat's own logic is unit-tested on the fake queue with a fake clock (``tests/unit/test_worker_loop.py``)
and SQS's extend is in the queue contract.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.adapters.queues.sqs import SqsJobQueue, create_queues
from backend.worker.loop import run_worker
from tests.helpers.aws_servers import client, moto_endpoint
from tests.helpers.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqs() -> tuple[Any, str]:
    endpoint = moto_endpoint()
    return client("sqs", endpoint), endpoint


def _spawn(url: str, endpoint: str, ledger: Path, visibility: int = 3, **env: str) -> subprocess.Popen[bytes]:
    full_env = dict(
        os.environ,
        COPILOT_QUEUE="sqs",
        COPILOT_SQS_QUEUE_URL=url,
        COPILOT_DATA_DIR=str(ledger.parent / "data"),
        COPILOT_TEST_LEDGER=str(ledger),
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        **env,
    )
    cmd = [sys.executable, "-m", "backend.worker", "--handler", "tests.helpers.worker_jobs:handle"]
    cmd += ["--heartbeat", "1", "--visibility", str(visibility), "--wait", "1"]
    return subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _rows(ledger: Path, sql: str) -> list[tuple[Any, ...]]:
    if not ledger.exists():
        return []
    with sqlite3.connect(ledger, timeout=30) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if p.stderr:
            p.stderr.close()


def test_three_workers_drain_30_jobs_exactly_once(sqs: tuple[Any, str], tmp_path: Path) -> None:
    sqs_client, endpoint = sqs
    # A long visibility timeout: a worker starved by a busy machine must not look dead (redelivery is tested below).
    url, _ = create_queues(sqs_client, f"jobs-{uuid.uuid4().hex[:8]}", max_receives=5, visibility_seconds=60)
    queue = SqsJobQueue(url, client=sqs_client)
    jobs = {f"job-{i:02d}" for i in range(30)}
    for job_id in sorted(jobs):
        queue.send(job_id)
    ledger = tmp_path / "ledger.sqlite3"
    # Each job waits until two workers have started one, so the first process up cannot drain everything alone.
    workers = [_spawn(url, endpoint, ledger, visibility=60, COPILOT_TEST_SHARE="2") for _ in range(3)]
    try:
        wait_until(lambda: len(_rows(ledger, "SELECT job_id FROM done")) >= 30, 300, "the backlog to be drained")
    finally:
        _stop(workers)
    done = _rows(ledger, "SELECT job_id, pid FROM done")
    attempts = _rows(ledger, "SELECT job_id FROM attempts")
    assert {j for j, _ in done} == jobs  # none lost
    assert sorted(j for (j,) in attempts) == sorted(jobs)  # none done (or even started) twice
    assert len({pid for _, pid in done}) >= 2  # the work really was shared
    assert queue.receive(wait_seconds=0, visibility_seconds=1) is None


def test_worker_killed_mid_job_leaves_it_to_another(sqs: tuple[Any, str], tmp_path: Path) -> None:
    sqs_client, endpoint = sqs
    url, _ = create_queues(sqs_client, f"jobs-{uuid.uuid4().hex[:8]}", max_receives=5, visibility_seconds=3)
    SqsJobQueue(url, client=sqs_client).send("job-slow")
    ledger = tmp_path / "ledger.sqlite3"
    marker = Path(f"{ledger}.job-slow.started")
    first = _spawn(url, endpoint, ledger, COPILOT_TEST_SLOW_JOB="job-slow")
    try:
        wait_until(marker.exists, 120, "the first worker to start the job")
        assert _rows(ledger, "SELECT job_id FROM attempts") == [("job-slow",)]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = _spawn(url, endpoint, ledger, COPILOT_TEST_SLOW_JOB="job-slow")
        try:  # the message reappears once the dead worker's last extension runs out (moto's clock)
            wait_until(lambda: _rows(ledger, "SELECT job_id FROM done") != [], 120, "another worker to finish the job")
        finally:
            _stop([second])
    finally:
        _stop([first])
    assert _rows(ledger, "SELECT job_id FROM done") == [("job-slow",)]
    assert len(_rows(ledger, "SELECT job_id FROM attempts")) == 2


def test_failing_job_goes_to_the_dead_letter_queue(sqs: tuple[Any, str]) -> None:
    sqs_client, _ = sqs
    url, dlq_url = create_queues(sqs_client, f"jobs-{uuid.uuid4().hex[:8]}", max_receives=2, visibility_seconds=5)
    queue = SqsJobQueue(url, client=sqs_client)
    queue.send("job-poison")
    seen: list[str] = []

    def boom(job_id: str) -> None:
        seen.append(job_id)
        raise RuntimeError("cannot decode audio")

    handled = run_worker(
        queue, boom, threading.Event(), heartbeat_seconds=1, visibility_seconds=5, wait_seconds=1, max_jobs=2
    )
    assert handled == 0 and seen == ["job-poison", "job-poison"]
    assert queue.receive(wait_seconds=1, visibility_seconds=5) is None  # third receive: moved to the DLQ
    dead = SqsJobQueue(dlq_url, client=sqs_client).receive(wait_seconds=1, visibility_seconds=5)
    assert dead is not None and dead.job_id == "job-poison"
