"""Scribe jobs in SQLite."""

from __future__ import annotations

import json
import sqlite3

from backend.adapters.records.sqlite.changes import log_change
from backend.adapters.records.sqlite.db import Database
from backend.domain.changes import ChangeKind
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.legacy_rows import job_from_row
from backend.domain.models import Job, JobStatus, now_ms


class SqliteJobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, job: Job) -> None:
        try:
            with self._db.tx() as conn:
                conn.execute(
                    "INSERT INTO jobs (job_id, patient_id, status, updated_at, version, body) VALUES (?, ?, ?, ?, ?, ?)",
                    (job.job_id, job.patient_id, job.status.value, job.updated_at, job.version, job.model_dump_json()),
                )
                log_change(conn, ChangeKind.JOB, job.patient_id, job.job_id, job.status.value)
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f"Job {job.job_id} already exists.") from e

    def get(self, job_id: str) -> Job:
        rows = self._db.query("SELECT body FROM jobs WHERE job_id = ?", (job_id,))
        if not rows:
            raise NotFound(f"No job {job_id}.")
        return _job(rows[0]["body"])

    def update(self, job: Job, expected_version: int) -> Job:
        stored = job.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = ?, updated_at = ?, version = ?, body = ? WHERE job_id = ? AND version = ?",
                (
                    stored.status.value,
                    stored.updated_at,
                    stored.version,
                    stored.model_dump_json(),
                    job.job_id,
                    expected_version,
                ),
            )
            if cur.rowcount == 0:
                if conn.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job.job_id,)).fetchone() is None:
                    raise NotFound(f"No job {job.job_id}.")
                raise ConcurrentUpdate()
            log_change(conn, ChangeKind.JOB, stored.patient_id, stored.job_id, stored.status.value, error=stored.error)
        return stored

    def list_for_patient(self, patient_id: str, limit: int = 50) -> list[Job]:
        rows = self._db.query(
            "SELECT body FROM jobs WHERE patient_id = ? ORDER BY updated_at DESC LIMIT ?", (patient_id, limit)
        )
        return [_job(r["body"]) for r in rows]

    def list_by_status(self, status: JobStatus, limit: int = 100) -> list[Job]:
        rows = self._db.query(
            "SELECT body FROM jobs WHERE status = ? ORDER BY updated_at LIMIT ?", (status.value, limit)
        )
        return [_job(r["body"]) for r in rows]

    def delete(self, job_id: str) -> None:
        with self._db.tx() as conn:
            conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))


def _job(body: str) -> Job:
    """A stored body as a ``Job``; bodies written by the previous version (a ``params`` dict) are upgraded."""
    return job_from_row(json.loads(body))
