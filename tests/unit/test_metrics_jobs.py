"""Health-data imports as jobs: submit stores the file and queues it; the worker imports it as the submitter
(audited), keeps the report and releases the file; a failed import keeps the file and says why; retries are
idempotent. Real importers and the fake stores, blobs and queue.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.domain.errors import NotFound, PermissionDenied, UnsupportedInput, ValidationFailed
from backend.domain.models import JobStatus, Patient, Role, User
from backend.ports import RecordStore
from backend.services import metrics_jobs as mj
from backend.services.access import Principal
from tests.fakes.blobs import FakeBlobs
from tests.fakes.queue import FakeQueue

PID = "PAT_00000001"
NURSE = Principal("nina", Role.NURSE)
OTHER = Principal("meena", Role.NURSE)
WIDE = b"date,resting_hr,hrv,steps\n2024-03-01,62,48,8000\n2024-03-02,63,47,abc\n2024-03-03,61,50,7000\n"


@pytest.fixture
def deps(stores: RecordStore) -> mj.MetricsJobDeps:
    stores.patients.add(Patient(patient_id=PID, name="Asha Rao"))
    for p in (NURSE, OTHER):
        stores.users.add(User(username=p.username, role=p.role, password_hash="x"))
    return mj.MetricsJobDeps(stores=stores, blobs=FakeBlobs(), queue=FakeQueue())


def _work(deps: mj.MetricsJobDeps) -> None:
    """The worker: every visible message handled, acked on success, released on an error (a retry)."""
    queue = deps.queue
    assert isinstance(queue, FakeQueue)
    while (message := queue.receive()) is not None:
        try:
            mj.process_metrics_job(deps, message.job_id)
        except Exception:
            queue.release(message)
            continue
        queue.ack(message)


def _actions(deps: mj.MetricsJobDeps) -> list[str]:
    return [e.action for e in reversed(deps.stores.audit.query(patient_id=PID).items)]


def test_the_page_only_queues_and_the_worker_imports_reports_and_drops_the_file(deps: mj.MetricsJobDeps) -> None:
    job = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    assert job.kind == "metrics_import" and job.status is JobStatus.QUEUED and deps.blobs.exists(job.blob_key)
    assert deps.stores.metrics.days(PID) == []  # nothing imported by the submitter
    assert mj.import_report(deps, NURSE, job.job_id) is None  # still queued
    _work(deps)
    done = mj.import_job(deps, NURSE, job.job_id)
    assert done.status is JobStatus.READY and done.blob_key == ""
    assert not deps.blobs.exists(job.blob_key)  # imported: the daily values are the record
    report = mj.import_report(deps, NURSE, job.job_id)
    assert report is not None and report.format == "csv_wide" and report.days_written == 8
    assert report.rejected_total == 1 and report.rejected[0][0] == 3 and report.patient_ids == [PID]
    assert len(deps.stores.metrics.days(PID)) == 8
    assert _actions(deps) == ["metrics.submit", "metrics.import"]


def test_a_second_delivery_or_a_resubmitted_file_changes_nothing(deps: mj.MetricsJobDeps) -> None:
    first = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    _work(deps)
    mj.process_metrics_job(deps, first.job_id)  # at-least-once: a duplicate delivery of a finished job
    assert _actions(deps).count("metrics.import") == 1
    again = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    _work(deps)
    report = mj.import_report(deps, NURSE, again.job_id)
    assert report is not None and report.already_imported and len(deps.stores.metrics.days(PID)) == 8


def test_wrong_files_are_refused_before_anything_is_stored(deps: mj.MetricsJobDeps) -> None:
    for data, name in ((b"", "empty.csv"), (b"%PDF-1.7 ...", "scan.pdf")):
        with pytest.raises(UnsupportedInput):
            mj.submit_import(deps, NURSE, PID, data, name)
    small = mj.MetricsJobDeps(deps.stores, deps.blobs, deps.queue, replace(deps.limits, max_import_bytes=10))
    with pytest.raises(UnsupportedInput, match="limit"):
        mj.submit_import(small, NURSE, PID, WIDE, "days.csv")
    with pytest.raises(NotFound):
        mj.submit_import(deps, NURSE, "PAT_0000dead", WIDE, "days.csv")
    with pytest.raises(PermissionDenied):
        mj.submit_import(deps, Principal("root", Role.ADMIN), PID, WIDE, "days.csv")
    assert deps.blobs.blobs == {} and deps.queue.receive() is None  # type: ignore[attr-defined]


def test_a_failed_import_says_why_and_keeps_the_file(deps: mj.MetricsJobDeps) -> None:
    # JSON passes the submitter's sniffing; reading it shows it is no export we know: the worker refuses it.
    job = mj.submit_import(deps, NURSE, PID, b'{"hello": "world"}', "odd.json")
    _work(deps)
    failed = mj.import_job(deps, NURSE, job.job_id)
    assert failed.status is JobStatus.FAILED and failed.error
    with pytest.raises(ValidationFailed):
        mj.import_report(deps, NURSE, job.job_id)
    assert deps.blobs.exists(job.blob_key)  # nothing lost: the file waits for a retry
    assert deps.stores.metrics.days(PID) == []


def test_a_crash_mid_import_is_retried_and_the_retry_is_idempotent(deps: mj.MetricsJobDeps) -> None:
    job = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    real_put = deps.blobs.put
    calls = {"n": 0}

    def put_failing_once(data: bytes, content_type: str = "application/octet-stream", prefix: str = "blob") -> str:
        if prefix == "metrics-reports" and calls["n"] == 0:
            calls["n"] += 1
            raise OSError("disk full")  # after the days were written, before the report was kept
        return real_put(data, content_type, prefix)

    deps.blobs.put = put_failing_once  # type: ignore[method-assign]
    _work(deps)
    done = mj.import_job(deps, NURSE, job.job_id)
    assert done.status is JobStatus.READY and done.attempts == 2
    report = mj.import_report(deps, NURSE, job.job_id)
    assert report is not None and report.already_imported and len(deps.stores.metrics.days(PID)) == 8


def test_an_import_is_its_submitters_and_a_disabled_submitter_imports_nothing(deps: mj.MetricsJobDeps) -> None:
    job = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    with pytest.raises(NotFound):
        mj.import_job(deps, OTHER, job.job_id)
    user = deps.stores.users.get(NURSE.username)
    deps.stores.users.update(user.model_copy(update={"disabled": True}), user.version)
    _work(deps)
    failed = mj.import_job(deps, NURSE, job.job_id)
    assert failed.status is JobStatus.FAILED and "disabled" in (failed.error or "")
    assert deps.stores.metrics.days(PID) == [] and deps.blobs.exists(job.blob_key)
    deps.stores.users.update(
        deps.stores.users.get(NURSE.username).model_copy(update={"disabled": False}), user.version + 1
    )
    mj.retry_import(deps, NURSE, job.job_id)
    _work(deps)
    assert mj.import_job(deps, NURSE, job.job_id).status is JobStatus.READY
    assert len(deps.stores.metrics.days(PID)) == 8
    assert "metrics.retry" in _actions(deps)
    with pytest.raises(ValidationFailed):
        mj.retry_import(deps, NURSE, job.job_id)  # only a failed import


def test_the_same_file_queued_twice_stays_until_both_are_imported(deps: mj.MetricsJobDeps) -> None:
    first = mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")
    second = mj.submit_import(deps, OTHER, PID, WIDE, "days.csv")
    assert first.blob_key == second.blob_key  # content-addressed: one stored file
    mj.process_metrics_job(deps, first.job_id)
    assert deps.blobs.exists(first.blob_key)  # the second import still needs it
    mj.process_metrics_job(deps, second.job_id)
    assert not deps.blobs.exists(first.blob_key)


def test_only_the_newest_finished_imports_are_kept(deps: mj.MetricsJobDeps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mj, "KEEP_FINISHED", 3)  # the rule, not the clinic's number: fewer imports to run
    done = []
    for day in range(mj.KEEP_FINISHED + 2):
        data = WIDE.replace(b"8000", str(8000 + day).encode())
        done.append(mj.submit_import(deps, NURSE, PID, data, "days.csv").job_id)
        _work(deps)
    reports = [mj.import_job(deps, NURSE, j).result_key for j in done[2:]]
    mj.submit_import(deps, NURSE, PID, WIDE, "days.csv")  # a submit prunes the oldest finished ones
    for gone in done[:2]:
        with pytest.raises(NotFound):
            mj.import_job(deps, NURSE, gone)
    assert all(key is not None and deps.blobs.exists(key) for key in reports)
