"""The REST API against the bar of the pages (issue 16): throttled token guessing, audited reads, no clinical text
in error bodies or logs, and bodies over the upload cap refused before they are read. Real app, real SQLite."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.helpers.api_client import PID, ApiHarness, api_harness

CLINICAL = "HIV positive since 2019, on dolutegravir"
MB = 1024 * 1024
FORM_HEAD = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(tmp_path: Path, clock: Clock) -> ApiHarness:
    # 1 MB caps, so "over the cap" needs only a few megabytes.
    return api_harness(tmp_path, clock=clock, max_upload_mb=1, max_document_mb=1)


def test_guessed_tokens_are_throttled_per_client_before_any_lookup(harness: ApiHarness, clock: Clock) -> None:
    guess = {"Authorization": "Bearer cop_" + "A" * 43}
    codes = [harness.client.get("/v1/patients", headers=guess).status_code for _ in range(11)]
    assert codes == [401] * 11  # 10 free failures; the 11th sets a wait
    refused = harness.client.get("/v1/patients", headers=guess)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"  # counted too: the wait grows
    # While it waits, even a valid token from that client is not looked up (a guess that hit would say so).
    assert harness.client.get("/v1/patients", headers=harness.auth("nurse")).status_code == 429
    clock.t += 60
    assert harness.client.get("/v1/patients", headers=harness.auth("nurse")).status_code == 200
    for _ in range(17):  # hammering on: 30 failures within the window block the client for 15 minutes
        harness.client.get("/v1/patients", headers=guess)
    blocked = harness.client.get("/v1/patients", headers=harness.auth("nurse"))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 60
    clock.t += 15 * 60 + 1
    assert harness.client.get("/v1/patients", headers=harness.auth("nurse")).status_code == 200


def test_reads_over_the_api_are_audited_under_the_tokens_account(harness: ApiHarness) -> None:
    doctor = harness.auth("doctor")
    for url in (f"/v1/patients/{PID}", f"/v1/patients/{PID}/notes", f"/v1/patients/{PID}/timeline"):
        assert harness.client.get(url, headers=doctor).status_code == 200, url
    trail = {(e.actor, e.action) for e in harness.app.stores.audit.query(actor="doctor", patient_id=PID).items}
    assert {("doctor", "patient.read"), ("doctor", "note.list"), ("doctor", "timeline.read")} <= trail


def test_refused_bodies_are_not_echoed_in_errors_or_logs(harness: ApiHarness, caplog: pytest.LogCaptureFixture) -> None:
    nurse = harness.auth("nurse")
    caplog.set_level(logging.DEBUG)
    wrong_type = harness.client.post("/v1/patients", json={"name": [CLINICAL], "phone": 5}, headers=nurse)
    assert wrong_type.status_code == 422
    assert [e["loc"] for e in wrong_type.json()["errors"]] == [["body", "name"], ["body", "phone"]]
    broken = harness.client.post(
        "/v1/patients",
        content=f'{{"name": "{CLINICAL}", '.encode(),
        headers={**nurse, "content-type": "application/json"},
    )
    assert broken.status_code == 422
    refused_domain = harness.client.post("/v1/patients", json={"name": CLINICAL, "dob": "next week"}, headers=nurse)
    assert refused_domain.status_code == 422
    for response in (wrong_type, broken, refused_domain):
        assert "HIV" not in response.text and "dolutegravir" not in response.text
    assert not any("HIV" in r.getMessage() or "dolutegravir" in r.getMessage() for r in caplog.records)


def _drive(api: object, headers: dict[str, str], megabytes: int) -> tuple[int, int]:
    """Send a body of ``megabytes`` 1 MB chunks straight into the ASGI app: (status, chunks the app pulled)."""
    pulled, status = 0, 0

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        head = FORM_HEAD if pulled == 1 else b""
        return {"type": "http.request", "body": head + b"\0" * MB, "more_body": pulled < megabytes}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/v1/patients/{PID}/recordings",
        "raw_path": f"/v1/patients/{PID}/recordings".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.9.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(api(scope, receive, send))  # type: ignore[operator]
    return status, pulled


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_cap_is_refused_before_it_is_read(harness: ApiHarness, declared: bool) -> None:
    headers = {**harness.auth("nurse"), "content-type": "multipart/form-data; boundary=b", "host": "testserver"}
    if declared:
        headers["content-length"] = str(64 * MB)
    status, pulled = _drive(harness.api, headers, 64)
    assert status == 413
    # The cap is 2 MB here (the largest upload limit and a megabyte of framing): never the whole 64 MB.
    assert pulled <= (0 if declared else 3)
    assert harness.app.stores.jobs.list_for_patient(PID) == []
