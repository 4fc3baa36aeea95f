"""Workers against SQS (moto server): parallel draining, heartbeats, crash recovery, dead-letter queue."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.adapters.sqs_queue import SqsJobQueue, create_queues
from backend.worker import run_worker
from tests.helpers.aws_servers import client, moto_endpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqs() -> tuple[Any, str]:
    endpoint = moto_endpoint()
    return client("sqs", endpoint), endpoint


def _spawn(url: str, endpoint: str, ledger: Path, **env: str) -> subprocess.Popen[bytes]:
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
    cmd += ["--heartbeat", "1", "--visibility", "3", "--wait", "1"]
    return subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _rows(ledger: Path, sql: str) -> list[tuple[Any, ...]]:
    if not ledger.exists():
        return []
    with sqlite3.connect(ledger, timeout=30) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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
    url, _ = create_queues(sqs_client, f"jobs-{uuid.uuid4().hex[:8]}", max_receives=5, visibility_seconds=3)
    queue = SqsJobQueue(url, client=sqs_client)
    jobs = {f"job-{i:02d}" for i in range(30)}
    for job_id in sorted(jobs):
        queue.send(job_id)
    ledger = tmp_path / "ledger.sqlite3"
    workers = [_spawn(url, endpoint, ledger) for _ in range(3)]
    try:
        finished = _wait_for(lambda: len(_rows(ledger, "SELECT job_id FROM done")) >= 30, timeout=90)
    finally:
        _stop(workers)
    assert finished, "the backlog was not drained in time"
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
        assert _wait_for(marker.exists, timeout=30), "the first worker never started the job"
        time.sleep(4)  # longer than the visibility timeout: only the heartbeat keeps the job hidden
        assert _rows(ledger, "SELECT job_id FROM attempts") == [("job-slow",)]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = _spawn(url, endpoint, ledger, COPILOT_TEST_SLOW_JOB="job-slow")
        try:
            assert _wait_for(lambda: _rows(ledger, "SELECT job_id FROM done") != [], timeout=30)
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


def test_heartbeat_keeps_a_long_job_hidden(sqs: tuple[Any, str]) -> None:
    sqs_client, _ = sqs
    url = sqs_client.create_queue(QueueName=f"hb-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue = SqsJobQueue(url, client=sqs_client)
    queue.send("job-long")
    peeks: list[object] = []

    def slow(job_id: str) -> None:
        for _ in range(4):  # 4 s of work with a 2 s visibility timeout
            time.sleep(1)
            peeks.append(queue.receive(wait_seconds=0, visibility_seconds=2))

    handled = run_worker(
        queue, slow, threading.Event(), heartbeat_seconds=0.5, visibility_seconds=2, wait_seconds=1, max_jobs=1
    )
    assert handled == 1
    assert peeks == [None, None, None, None]
    assert queue.receive(wait_seconds=0, visibility_seconds=2) is None  # acked
