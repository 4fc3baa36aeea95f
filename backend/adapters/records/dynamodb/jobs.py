"""Scribe jobs in ``Jobs`` (key job_id); GSIs ``status-index`` and ``patient-index`` on updated_at.

Items written by the previous version (a ``params`` map) are upgraded as they are read (``job_from_row``).
"""

from __future__ import annotations

from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, plain, to_item
from backend.adapters.records.dynamodb.tables import JOBS
from backend.domain.errors import AlreadyExists, NotFound
from backend.domain.legacy_rows import job_from_row
from backend.domain.models import Job, JobStatus, now_ms


class DynamoJobStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + JOBS)

    def add(self, job: Job) -> None:
        if not self._t.put_new(to_item(job), "job_id"):
            raise AlreadyExists(f"Job {job.job_id} already exists.")

    def get(self, job_id: str) -> Job:
        item = self._t.get({"job_id": av(job_id)})
        if item is None:
            raise NotFound(f"No job {job_id}.")
        return job_from_row(plain(item))

    def update(self, job: Job, expected_version: int) -> Job:
        stored = job.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        self._t.put_versioned(to_item(stored), {"job_id": av(job.job_id)}, expected_version, f"job {job.job_id}")
        return stored

    def list_for_patient(self, patient_id: str, limit: int = 50) -> list[Job]:
        items = self._t.query_equal(
            "patient-index", "patient_id", patient_id, max_items=limit, ScanIndexForward=False, Limit=limit
        )
        return [job_from_row(plain(i)) for i in items]

    def list_by_status(self, status: JobStatus, limit: int = 100) -> list[Job]:
        items = self._t.query_equal("status-index", "status", status.value, max_items=limit, Limit=limit)
        return [job_from_row(plain(i)) for i in items]

    def delete(self, job_id: str) -> None:
        self._t.call("delete_item", TableName=self._t.name, Key={"job_id": av(job_id)})
