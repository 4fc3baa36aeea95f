"""The authorisation matrix over HTTP: every route x no token / nurse / doctor / admin / expired / revoked.

No, an expired or a revoked token gets 401; a role without the route's permission gets 403 and leaves no audit
line; a role with it never gets 401/403 (the call may still be refused for another, stated reason) and never a
5xx. A meta-test makes sure every route of the API is in the table.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from backend.domain.models import HistoryEntry, Job, JobStatus, Note, NoteStatus, Role
from backend.domain.upload_policy import REQUESTER_FIELD, new_upload, post_conditions, sign_policy
from backend.services.access import GRANTS
from backend.services.access import Permission as P
from backend.services.login_guard import LoginPolicy
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.speech import tone_bursts, wav_bytes

CALLERS = ("none", "nurse", "doctor", "admin", "expired", "revoked")
ROLES = {"nurse": Role.NURSE, "doctor": Role.DOCTOR, "admin": Role.ADMIN}


class HandClock:
    """Epoch seconds moved by hand: the matrix spends many failed authentications from one client address."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def past_the_failure_window(self) -> None:
        """Move past the client's failure window, so each call of the matrix starts unthrottled."""
        self.now += LoginPolicy().lock_minutes * 60 + 1


@pytest.fixture(scope="module")
def clock() -> HandClock:
    return HandClock()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, clock: HandClock) -> ApiHarness:
    h = api_harness(tmp_path_factory.mktemp("api-authz"), clock=clock)
    stores = h.app.stores
    draft = stores.notes.add(Note(patient_id=PID, sections={"subjective": "cough"}))
    signed = stores.notes.add(Note(patient_id=PID, sections={"plan": "rest"}))
    signed = stores.notes.update(signed.model_copy(update={"status": NoteStatus.SIGNED, "signer": "doctor"}), 1)
    key = h.app.blobs.put(b"RIFF-not-really", "audio/wav", prefix="audio")
    job = Job(job_id="JOB_00000000000000aa", kind="scribe", patient_id=PID, blob_key=key, status=JobStatus.FAILED)
    stores.jobs.add(job)
    doc = stores.history.add(HistoryEntry(patient_id=PID, source="digitize:image"))
    h.app.settings.__dict__["_matrix"] = {"draft": draft.timestamp, "signed": signed.timestamp, "doc": doc.timestamp}
    return h


def _ids(h: ApiHarness) -> dict[str, Any]:
    ids: dict[str, Any] = h.app.settings.__dict__["_matrix"]
    return ids


WAV = wav_bytes(tone_bursts(1.0))
Request = Callable[[ApiHarness, dict[str, str]], Any]


def _req(method: str, path: str, **kwargs: Any) -> Request:
    def call(h: ApiHarness, headers: dict[str, str]) -> Any:
        ids = _ids(h)
        url = path.format(pid=PID, **ids)
        return h.client.request(method, url, headers=headers, **kwargs)

    return call


BOUND_S = 30.0  # the longest a stream call may take: it ends on its first frame, long before


def _first_frame(path: str) -> Request:
    """GET an endless stream, keep its status line, headers and first body chunk, then hang up."""

    def call(h: ApiHarness, headers: dict[str, str]) -> httpx.Response:
        # Its own thread and event loop: the browser tests of the same run leave one set on the main thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            done = pool.submit(asyncio.run, asyncio.wait_for(_drive_until_first_chunk(h, path, headers), BOUND_S))
            return done.result()

    return call


async def _drive_until_first_chunk(h: ApiHarness, path: str, headers: dict[str, str]) -> httpx.Response:
    start: dict[str, Any] = {}
    body: list[bytes] = []
    hung_up = asyncio.Event()
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if body[-1] or not message.get("more_body", False):
                hung_up.set()  # the first frame (or a whole refusal) is enough

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    await h.api(scope, receive, send)
    raw_headers = [(k.decode(), v.decode()) for k, v in start.get("headers", [])]
    return httpx.Response(int(start["status"]), headers=raw_headers, content=b"".join(body))


# (method, route path) -> (permission the route needs, how to call it)
ROUTES: dict[tuple[str, str], tuple[P, Request]] = {
    ("POST", "/v1/patients"): (P.WRITE_PATIENTS, _req("POST", "/v1/patients", json={"name": "Matrix Person"})),
    ("GET", "/v1/patients"): (P.READ_PATIENTS, _req("GET", "/v1/patients", params={"q": "a"})),
    ("GET", "/v1/patients/{patient_id}"): (P.READ_PATIENTS, _req("GET", "/v1/patients/{pid}")),
    ("PUT", "/v1/patients/{patient_id}"): (
        P.WRITE_PATIENTS,
        _req("PUT", "/v1/patients/{pid}", json={"name": "Renamed", "version": 999}),
    ),
    ("PUT", "/v1/patients/{patient_id}/wearable"): (
        P.WRITE_PATIENTS,
        _req("PUT", "/v1/patients/{pid}/wearable", json={"ultrahuman_email": "x@example.org", "version": 999}),
    ),
    ("POST", "/v1/patients/{patient_id}/recordings"): (
        P.RECORD,
        _req("POST", "/v1/patients/{pid}/recordings", files={"file": ("visit.wav", WAV, "audio/wav")}),
    ),
    ("GET", "/v1/jobs/{job_id}"): (P.READ_PATIENTS, _req("GET", "/v1/jobs/JOB_00000000000000aa")),
    ("POST", "/v1/jobs/{job_id}/retry"): (P.RECORD, _req("POST", "/v1/jobs/JOB_00000000000000aa/retry")),
    ("GET", "/v1/patients/{patient_id}/jobs"): (P.READ_PATIENTS, _req("GET", "/v1/patients/{pid}/jobs")),
    ("GET", "/v1/patients/{patient_id}/notes"): (P.READ_PATIENTS, _req("GET", "/v1/patients/{pid}/notes")),
    ("GET", "/v1/patients/{patient_id}/notes/{timestamp}"): (
        P.READ_PATIENTS,
        _req("GET", "/v1/patients/{pid}/notes/{draft}"),
    ),
    ("PUT", "/v1/patients/{patient_id}/notes/{timestamp}"): (
        P.EDIT_NOTES,
        _req("PUT", "/v1/patients/{pid}/notes/{draft}", json={"version": 1, "sections": {"plan": "fluids"}}),
    ),
    ("POST", "/v1/patients/{patient_id}/notes/{timestamp}/sign"): (
        P.SIGN_NOTES,
        _req("POST", "/v1/patients/{pid}/notes/{draft}/sign", json={"version": 99}),
    ),
    ("POST", "/v1/patients/{patient_id}/notes/{timestamp}/amend"): (
        P.EDIT_NOTES,
        _req("POST", "/v1/patients/{pid}/notes/{signed}/amend"),
    ),
    ("GET", "/v1/patients/{patient_id}/notes/{timestamp}/versions"): (
        P.READ_PATIENTS,
        _req("GET", "/v1/patients/{pid}/notes/{signed}/versions"),
    ),
    ("POST", "/v1/patients/{patient_id}/documents"): (
        P.DIGITIZE,
        _req("POST", "/v1/patients/{pid}/documents", files={"file": ("rx.png", b"not an image", "image/png")}),
    ),
    ("GET", "/v1/patients/{patient_id}/documents/readings/{reading_id}"): (
        P.DIGITIZE,
        _req("GET", "/v1/patients/{pid}/documents/readings/JOB_gone"),
    ),
    ("POST", "/v1/patients/{patient_id}/documents/readings/{reading_id}/confirm"): (
        P.DIGITIZE,
        _req("POST", "/v1/patients/{pid}/documents/readings/JOB_gone/confirm", json={}),
    ),
    ("POST", "/v1/patients/{patient_id}/documents/readings/{reading_id}/cancel"): (
        P.DIGITIZE,
        _req("POST", "/v1/patients/{pid}/documents/readings/JOB_gone/cancel"),
    ),
    ("GET", "/v1/patients/{patient_id}/documents/{timestamp}"): (
        P.READ_PATIENTS,
        _req("GET", "/v1/patients/{pid}/documents/{doc}"),
    ),
    ("POST", "/v1/patients/{patient_id}/metrics"): (
        P.IMPORT_METRICS,
        _req("POST", "/v1/patients/{pid}/metrics", files={"file": ("days.csv", b"", "text/csv")}),
    ),
    ("GET", "/v1/patients/{patient_id}/metrics"): (P.READ_PATIENTS, _req("GET", "/v1/patients/{pid}/metrics")),
    ("GET", "/v1/patients/{patient_id}/metrics/imports/{job_id}"): (
        P.IMPORT_METRICS,
        _req("GET", "/v1/patients/{pid}/metrics/imports/JOB_gone"),
    ),
    ("GET", "/v1/patients/{patient_id}/timeline"): (P.READ_PATIENTS, _req("GET", "/v1/patients/{pid}/timeline")),
    ("GET", "/v1/patients/{patient_id}/medications"): (
        P.READ_PATIENTS,
        _req("GET", "/v1/patients/{pid}/medications"),
    ),
    ("POST", "/v1/patients/{patient_id}/ask"): (
        P.ASK,
        _req("POST", "/v1/patients/{pid}/ask", json={"question": "What medications?"}),
    ),
    ("GET", "/v1/patients/{patient_id}/fhir"): (P.EXPORT, _req("GET", "/v1/patients/{pid}/fhir")),
    ("POST", "/v1/patients/{patient_id}/recordings:upload-url"): (
        P.RECORD,
        _req("POST", "/v1/patients/{pid}/recordings:upload-url"),
    ),
    ("GET", "/v1/uploads/{upload_id}"): (P.READ_PATIENTS, _req("GET", "/v1/uploads/UPL_00000000000000aa_9999999999")),
    ("GET", "/v1/events"): (P.READ_PATIENTS, _first_frame("/v1/events")),
}

# Routes that act without a principal -> why (and what authorises them instead; tested below).
NO_PRINCIPAL_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/v1/uploads:form"): "the local stand-in for the bucket's form endpoint: the server-signed policy "
    "(key, requester, type, size, expiry) is its authority, as a presigned POST is for S3; a bearer token adds none",
}


def _audit_rows(h: ApiHarness) -> int:
    with sqlite3.connect(h.app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def test_every_route_is_in_the_matrix(harness: ApiHarness) -> None:
    paths = harness.api.openapi()["paths"]
    served = {(method.upper(), path) for path, ops in paths.items() if path != "/v1/health" for method in ops}
    listed = set(ROUTES) | set(NO_PRINCIPAL_ROUTES)
    assert not set(ROUTES) & set(NO_PRINCIPAL_ROUTES)
    assert served == listed, f"add to ROUTES (or NO_PRINCIPAL_ROUTES, with why): {sorted(served - listed)}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_x_caller(harness: ApiHarness, clock: HandClock, route: tuple[str, str], caller: str) -> None:
    permission, call = ROUTES[route]
    clock.past_the_failure_window()
    before = _audit_rows(harness)
    response = call(harness, harness.auth(caller))
    if caller not in ROLES:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert _audit_rows(harness) == before
    elif permission not in GRANTS[ROLES[caller]]:
        assert response.status_code == 403, response.text
        assert response.json()["detail"] == f"Your role ({caller}) may not {permission.value}."
        assert _audit_rows(harness) == before  # nothing was done, so nothing was logged
    else:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text


def test_public_routes_need_no_token(harness: ApiHarness) -> None:
    assert harness.client.get("/v1/health").json() == {"status": "ok"}
    schema = harness.client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Clinical Co-Pilot API"
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()
    assert harness.client.get("/docs").status_code == 200


def test_a_disabled_account_or_a_changed_role_stops_its_token(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    from backend.services.auth import set_disabled

    assert h.client.get("/v1/patients", headers=h.auth("nurse")).status_code == 200
    set_disabled(h.app.stores, None, "nurse", True)
    refused = h.client.get("/v1/patients", headers=h.auth("nurse"))
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    user = h.app.stores.users.get("doctor")
    h.app.stores.users.update(user.model_copy(update={"role": Role.ADMIN}), user.version)
    assert h.client.get("/v1/patients", headers=h.auth("doctor")).status_code == 401


FORM_ROUTE = "/v1/uploads:form"


def _signed_form(h: ApiHarness) -> dict[str, str]:
    """The fields of a fresh upload form, as the server signs it for a nurse."""
    response = h.client.post(f"/v1/patients/{PID}/recordings:upload-url", headers=h.auth("nurse"))
    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith(FORM_ROUTE)
    return dict(response.json()["fields"])


def _expired_form(h: ApiHarness) -> dict[str, str]:
    """A form the server did sign, for a nurse, whose policy expired a minute ago."""
    deps = h.app.upload_deps()
    past = int(time.time()) - 60
    upload = new_upload(deps.secret, PID, "nurse", past)
    extra = deps.staging.encryption_fields()
    conditions = post_conditions(upload, deps.scribe.limits.max_audio_bytes, extra)
    return {"key": upload.key, REQUESTER_FIELD: "nurse", **extra, **sign_policy(deps.secret, conditions, past)}


def _post_form(h: ApiHarness, fields: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    data = {**fields, "Content-Type": "audio/wav"}
    return h.client.post(FORM_ROUTE, data=data, files={"file": ("visit.wav", WAV, "audio/wav")}, headers=headers)


def _staged(h: ApiHarness) -> int:
    return len(list((h.app.settings.data_dir / "uploads").rglob("*.meta")))


@pytest.mark.parametrize("caller", CALLERS)
def test_the_form_route_takes_its_authority_from_the_signed_form_not_a_token(harness: ApiHarness, caller: str) -> None:
    # A good form is accepted whoever sends it (the phone holds no token for the bucket either)...
    before = _staged(harness)
    assert _post_form(harness, _signed_form(harness), harness.auth(caller)).status_code == 204
    assert _staged(harness) == before + 1
    # ...and a forged one is refused even with a token whose role may record.
    forged = {**_signed_form(harness), "x-copilot-signature": "0" * 64}
    refused = _post_form(harness, forged, harness.auth(caller))
    assert refused.status_code == 403 and "signature" in refused.json()["detail"], refused.text
    assert _staged(harness) == before + 1


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("bad signature", "signature does not match"),
        ("expired policy", "expired"),
        ("another upload's key", "key is not the one"),
        ("another requester", "requested-by is not the one"),
    ],
)
def test_a_form_that_breaks_its_signed_policy_is_refused(harness: ApiHarness, case: str, why: str) -> None:
    form = _signed_form(harness)
    if case == "bad signature":
        form["x-copilot-signature"] = form["x-copilot-signature"][::-1]
    elif case == "expired policy":
        form = _expired_form(harness)
    elif case == "another upload's key":
        form["key"] = _signed_form(harness)["key"]  # a key the server signed, but for another form's policy
    else:
        form[REQUESTER_FIELD] = "doctor"  # the requester is fixed by the policy: who is billed in the audit
    before_staged, before_audit = _staged(harness), _audit_rows(harness)
    refused = _post_form(harness, form, harness.auth("doctor"))
    assert refused.status_code == 403 and why in refused.json()["detail"], refused.text
    assert _staged(harness) == before_staged  # nothing stored, so nothing will be processed
    assert _audit_rows(harness) == before_audit
