"""Metrics import over HTTP: 202 with the job, the worker (another App on the same data) imports it, and the
report comes back from any API process; a refused file is 415 at once; a failed import says why and is retried.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.bootstrap import build_app
from tests.helpers.api_client import api_harness

WIDE = b"date,resting_hr,hrv,steps\n2024-03-01,62,48,8000\n2024-03-02,63,47,abc\n2024-03-03,61,50,7000\n"


def test_upload_is_queued_imported_by_the_worker_and_reported(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    nurse = h.auth("nurse")
    pid = h.client.post("/v1/patients", json={"name": "Asha Rao"}, headers=nurse).json()["patient_id"]
    accepted = h.client.post(
        f"/v1/patients/{pid}/metrics", files={"file": ("days.csv", WIDE, "text/csv")}, headers=nurse
    )
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "queued" and job["status_url"] == f"/v1/jobs/{job['job_id']}"
    waiting = h.client.get(job["report_url"], headers=nurse).json()
    assert waiting["status"] == "queued" and waiting["report"] is None
    assert h.client.get(f"/v1/patients/{pid}/metrics", headers=nurse).json()["items"] == []  # not imported by the API

    build_app(h.app.settings).handle_job(job["job_id"])  # the worker: another process on the same data
    other_api = TestClient(create_app(build_app(h.app.settings), start_worker=False))
    done = other_api.get(job["report_url"], headers=nurse).json()
    assert done["status"] == "ready_for_review" and done["error"] is None
    assert done["report"]["format"] == "csv_wide" and done["report"]["days_written"] == 8
    assert done["report"]["rejected_total"] == 1
    assert h.client.get(job["status_url"], headers=nurse).json()["status"] == "ready_for_review"
    assert len(h.client.get(f"/v1/patients/{pid}/metrics", headers=nurse).json()["items"]) == 8
    # The import is its submitter's: another account (even one allowed to import) learns nothing of it.
    assert h.client.get(job["report_url"], headers=h.auth("doctor")).status_code == 404


def test_a_wrong_file_is_refused_at_once_and_a_failed_import_says_why(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    nurse = h.auth("nurse")
    pid = h.client.post("/v1/patients", json={"name": "Asha Rao"}, headers=nurse).json()["patient_id"]
    pdf = h.client.post(
        f"/v1/patients/{pid}/metrics", files={"file": ("scan.pdf", b"%PDF-1.7", "application/pdf")}, headers=nurse
    )
    assert pdf.status_code == 415, pdf.text
    odd = h.client.post(
        f"/v1/patients/{pid}/metrics", files={"file": ("odd.json", b'{"hello": 1}', "application/json")}, headers=nurse
    )
    assert odd.status_code == 202, odd.text
    build_app(h.app.settings).handle_job(odd.json()["job_id"])
    failed = h.client.get(odd.json()["report_url"], headers=nurse).json()
    assert failed["status"] == "failed" and failed["error"] and failed["report"] is None
    # The file was kept: the job can be queued again (the same retry as a recording's).
    retried = h.client.post(f"/v1/jobs/{odd.json()['job_id']}/retry", headers=nurse)
    assert retried.status_code == 200 and retried.json()["status"] == "queued", retried.text
