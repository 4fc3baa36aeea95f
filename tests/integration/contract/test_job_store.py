"""JobStore contract."""

from __future__ import annotations

import pytest

from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import Job, JobStatus
from backend.ports import RecordStore


def _job(n: int, patient: str = "PAT_00000001", updated_at: int = 0) -> Job:
    return Job(job_id=f"job-{n}", kind="scribe", patient_id=patient, blob_key="audio/ab/x", updated_at=updated_at or n)


def test_add_get_update_delete(record_store: RecordStore) -> None:
    jobs = record_store.jobs
    job = _job(1)
    jobs.add(job)
    with pytest.raises(AlreadyExists):
        jobs.add(job)
    running = jobs.update(job.model_copy(update={"status": JobStatus.TRANSCRIBING, "attempts": 1}), expected_version=1)
    assert (running.version, jobs.get("job-1").status) == (2, JobStatus.TRANSCRIBING)
    with pytest.raises(ConcurrentUpdate):
        jobs.update(job.model_copy(update={"status": JobStatus.FAILED}), expected_version=1)
    assert jobs.get("job-1").status == JobStatus.TRANSCRIBING
    jobs.delete("job-1")
    with pytest.raises(NotFound):
        jobs.get("job-1")
    with pytest.raises(NotFound):
        jobs.update(job, expected_version=2)


def test_lists_by_status_and_patient(record_store: RecordStore) -> None:
    jobs = record_store.jobs
    for n in range(1, 6):
        jobs.add(_job(n, patient="PAT_00000001" if n % 2 else "PAT_00000002"))
    failed = jobs.update(jobs.get("job-3").model_copy(update={"status": JobStatus.FAILED, "error": "no audio"}), 1)
    assert [j.job_id for j in jobs.list_by_status(JobStatus.QUEUED)] == ["job-1", "job-2", "job-4", "job-5"]
    assert [j.job_id for j in jobs.list_by_status(JobStatus.QUEUED, limit=2)] == ["job-1", "job-2"]
    assert [j.job_id for j in jobs.list_by_status(JobStatus.FAILED)] == [failed.job_id]
    assert [j.job_id for j in jobs.list_for_patient("PAT_00000001")] == ["job-3", "job-5", "job-1"]
    assert [j.job_id for j in jobs.list_for_patient("PAT_00000001", limit=1)] == ["job-3"]
