"""The authorisation matrix over HTTP: every route x no token / nurse / doctor / admin / expired / revoked.

No, an expired or a revoked token gets 401; a role without the route's permission gets 403 and leaves no audit
line; a role with it never gets 401/403 (the call may still be refused for another, stated reason) and never a
5xx. A meta-test makes sure every route of the API is in the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.domain.models import HistoryEntry, Job, JobStatus, Note, NoteStatus, Role
from backend.services.access import GRANTS
from backend.services.access import Permission as P
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.speech import tone_bursts, wav_bytes

CALLERS = ("none", "nurse", "doctor", "admin", "expired", "revoked")
ROLES = {"nurse": Role.NURSE, "doctor": Role.DOCTOR, "admin": Role.ADMIN}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> ApiHarness:
    h = api_harness(tmp_path_factory.mktemp("api-authz"))
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
}


def _audit_rows(h: ApiHarness) -> int:
    with sqlite3.connect(h.app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def test_every_route_is_in_the_matrix(harness: ApiHarness) -> None:
    paths = harness.api.openapi()["paths"]
    served = {(method.upper(), path) for path, ops in paths.items() if path != "/v1/health" for method in ops}
    assert served == set(ROUTES), f"add to ROUTES: {sorted(served - set(ROUTES))}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_x_caller(harness: ApiHarness, route: tuple[str, str], caller: str) -> None:
    permission, call = ROUTES[route]
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
