"""The Health metrics page's import under AppTest: the page queues the file (it imports nothing itself), the app's
in-process worker imports it, and the next run shows the report; a file the worker cannot import shows why and
offers a retry.
"""

from __future__ import annotations

import contextlib

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.errors import AlreadyExists
from backend.domain.models import JobStatus, Patient, Role
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page
from tests.helpers.waits import wait_until

PID = "PAT_0000a001"
NURSE = Principal("nurse", Role.NURSE)
WIDE = b"date,resting_hr,hrv,steps\n2024-03-01,62,48,8000\n2024-03-02,63,47,abc\n2024-03-03,61,50,7000\n"
BOUND_S = 120.0  # a bound, not a budget: the import takes well under a second

app = app_fixture("metrics-import", users={"nurse": Role.NURSE})


def _import(app: App, name: str, data: bytes) -> tuple[AppTest, str]:
    with contextlib.suppress(AlreadyExists):  # the module's tests share the patient
        app.stores.patients.add(Patient(patient_id=PID, name="Asha Rao"))
    at = open_page("health_metrics", NURSE, PID)
    at.file_uploader(key="metrics_upload").upload(name, data, "text/csv").run()
    at.button(key="metrics_import").click().run()
    assert not at.exception, at.exception
    job_id = str(at.session_state["metrics_import_job"])
    wait_until(
        lambda: app.stores.jobs.get(job_id).status in (JobStatus.READY, JobStatus.FAILED),
        BOUND_S,
        "the in-process worker to finish the import",
    )
    return at.run(), job_id


def test_the_worker_imports_and_the_page_shows_the_report(app: App) -> None:
    at, job_id = _import(app, "days.csv", WIDE)
    assert app.stores.jobs.get(job_id).kind == "metrics_import"
    assert any("8 daily values" in s.value and "csv" in s.value for s in at.success), [s.value for s in at.success]
    assert any("1 row rejected" in w.value for w in at.warning)
    assert len(app.stores.metrics.days(PID)) == 8


def test_a_failed_import_says_why_and_offers_a_retry(app: App) -> None:
    at, job_id = _import(app, "odd.json", b'{"hello": "world"}')
    assert app.stores.jobs.get(job_id).status is JobStatus.FAILED
    assert at.error and at.error[0].value, "the reason is shown"
    at.button(key="metrics_retry").click().run()
    assert not at.exception, at.exception
    assert app.stores.jobs.get(job_id).attempts <= 1  # queued again from scratch (or already taken again)
