"""A test job handler for worker processes: records attempts and completes each job at most once.

The ledger is a SQLite file (``COPILOT_TEST_LEDGER``). Completion is a conditional
write (``INSERT`` into a table keyed by job id inside an IMMEDIATE transaction, after
checking it is not done yet), so a redelivered job is acknowledged without redoing
the work — the idempotence real handlers get from the job row's version.
``COPILOT_TEST_SLOW_JOB`` names a job whose first attempt hangs (to be killed mid-job).
``COPILOT_TEST_SHARE=N`` holds each job until N different worker processes have started one, so a test of
sharing does not depend on which process the scheduler happens to start first.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path


def _ledger() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ["COPILOT_TEST_LEDGER"], timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS attempts (job_id TEXT, pid INTEGER, at REAL)")
    conn.execute("CREATE TABLE IF NOT EXISTS done (job_id TEXT PRIMARY KEY, pid INTEGER, at REAL)")
    return conn


def _wait_for_workers(conn: sqlite3.Connection, n: int, bound_s: float = 120.0) -> None:
    """Return once ``n`` processes have recorded an attempt (bounded, so a broken test fails instead of hanging)."""
    deadline = time.monotonic() + bound_s
    while conn.execute("SELECT COUNT(DISTINCT pid) FROM attempts").fetchone()[0] < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {n} workers took a job within {bound_s:.0f} s")
        time.sleep(0.05)  # polling the ledger, not timing anything


def handle(job_id: str) -> None:
    conn = _ledger()
    try:
        conn.execute("INSERT INTO attempts VALUES (?, ?, ?)", (job_id, os.getpid(), time.time()))
        if job_id == os.environ.get("COPILOT_TEST_SLOW_JOB"):
            marker = Path(os.environ["COPILOT_TEST_LEDGER"] + f".{job_id}.started")
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                time.sleep(600)  # the test kills this process here
        _wait_for_workers(conn, int(os.environ.get("COPILOT_TEST_SHARE", "0")))
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("SELECT 1 FROM done WHERE job_id = ?", (job_id,)).fetchone() is None:
            conn.execute("INSERT INTO done VALUES (?, ?, ?)", (job_id, os.getpid(), time.time()))
        conn.execute("COMMIT")
    finally:
        conn.close()
