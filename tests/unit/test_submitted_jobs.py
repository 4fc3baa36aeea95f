"""A document or import job is worked on as its submitter, with the role the account has now.

The fake record store's real job rows and accounts; the work function records what it was given.
"""

from __future__ import annotations

import pytest

from backend.domain.errors import UnsupportedInput
from backend.domain.models import Job, JobStatus, Role, User
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.submitted_jobs import run_as_submitter

GIVE_UP = "Failed {attempts} times ({error})."


def _job(stores: RecordStore, job_id: str = "JOB_0000000000000001", by: str = "nina") -> str:
    stores.jobs.add(Job(job_id=job_id, kind="document", patient_id="PAT_00000001", blob_key="k", created_by=by))
    return job_id


def _run(stores: RecordStore, job_id: str, seen: list[tuple[str, Principal]], upload: str = "document") -> None:
    def work(job: Job, submitter: Principal) -> None:
        seen.append((job.job_id, submitter))

    run_as_submitter(stores, job_id, 3, work, upload=upload, give_up=GIVE_UP)


def test_the_work_runs_as_the_submitter_with_the_role_they_have_now(stores: RecordStore) -> None:
    stores.users.add(User(username="nina", role=Role.NURSE, password_hash="x"))
    job_id = _job(stores)
    user = stores.users.get("nina")
    stores.users.update(user.model_copy(update={"role": Role.DOCTOR}), user.version)  # promoted after submitting
    seen: list[tuple[str, Principal]] = []
    _run(stores, job_id, seen)
    assert seen == [(job_id, Principal("nina", Role.DOCTOR))]
    assert stores.jobs.get(job_id).attempts == 1


@pytest.mark.parametrize(
    ("disabled", "upload", "error"),
    [
        (True, "document", "The account that uploaded this document is disabled."),
        (None, "file", "The account that uploaded this file no longer exists."),
    ],
)
def test_a_disabled_or_removed_submitter_gets_nothing_done_and_the_job_says_why(
    stores: RecordStore, disabled: bool | None, upload: str, error: str
) -> None:
    if disabled is not None:
        stores.users.add(User(username="nina", role=Role.NURSE, password_hash="x", disabled=disabled))
    job_id = _job(stores)
    seen: list[tuple[str, Principal]] = []
    _run(stores, job_id, seen, upload)
    assert seen == []
    failed = stores.jobs.get(job_id)
    assert failed.status is JobStatus.FAILED and failed.error == error


def test_an_expected_error_fails_the_job_and_an_unexpected_one_is_retried_then_given_up(stores: RecordStore) -> None:
    stores.users.add(User(username="nina", role=Role.NURSE, password_hash="x"))
    bad, flaky = _job(stores, "JOB_0000000000000002"), _job(stores, "JOB_0000000000000003")

    def refuse(job: Job, submitter: Principal) -> None:
        raise UnsupportedInput("Not a document we read.")

    run_as_submitter(stores, bad, 3, refuse, upload="document", give_up=GIVE_UP)
    assert (stores.jobs.get(bad).status, stores.jobs.get(bad).error) == (JobStatus.FAILED, "Not a document we read.")

    def crash(job: Job, submitter: Principal) -> None:
        raise RuntimeError("disk")

    for attempt in (1, 2):
        with pytest.raises(RuntimeError):
            run_as_submitter(stores, flaky, 3, crash, upload="document", give_up=GIVE_UP)
        assert stores.jobs.get(flaky).status is JobStatus.QUEUED, attempt
    run_as_submitter(stores, flaky, 3, crash, upload="document", give_up=GIVE_UP)
    last = stores.jobs.get(flaky)
    assert (last.status, last.error) == (JobStatus.FAILED, "Failed 3 times (RuntimeError).")
