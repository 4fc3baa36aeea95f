"""Safe retries and safe edits over HTTP: Idempotency-Key on the POSTs that create things, ETag / If-Match on notes.

A mobile app that lost a response sends the request again; the first answer comes back and nothing is done twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.api.idempotency import DAY_MS, RUNNING_MS, Idempotency, json_content
from backend.api.schemas import PatientIn
from backend.domain.errors import StoreUnavailable
from backend.domain.idempotency import IdempotencyRecord, fingerprint, scoped_key
from backend.domain.models import Note
from tests.fakes.idempotency import FakeIdempotencyStore
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.aws_servers import dynamodb_local, fresh_tables
from tests.helpers.speech import tone_bursts, wav_bytes

START_MS = 1_800_000_000_000


class MsClock:
    """Wall time in epoch ms, moved by hand."""

    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> MsClock:
    return MsClock()


@pytest.fixture
def harness(tmp_path: Path) -> ApiHarness:
    return api_harness(tmp_path, demo=False)


def _with_store(h: ApiHarness, clock: MsClock) -> FakeIdempotencyStore:
    """Swap the app's store for an in-memory one on ``clock`` (the SQLite one is the default: see other tests)."""
    store = FakeIdempotencyStore()
    h.api.state.idempotency = Idempotency(store, clock)
    return store


def _patient_count(h: ApiHarness) -> int:
    return h.app.stores.patients.count()


def test_a_retried_registration_registers_once_and_replays_the_first_answer(harness: ApiHarness) -> None:
    nurse = {**harness.auth("nurse"), "Idempotency-Key": "reg-0001"}
    body = {"name": "Asha Devi", "phone": "98765 43210"}
    first = harness.client.post("/v1/patients", json=body, headers=nurse)
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"/v1/patients/{first.json()['patient_id']}"
    again = harness.client.post("/v1/patients", json={"phone": "98765 43210", "name": "Asha Devi"}, headers=nurse)
    assert again.status_code == 201 and again.json() == first.json()  # key order differs: the same request
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    assert _patient_count(harness) == 1

    changed = harness.client.post("/v1/patients", json={**body, "name": "Asha D"}, headers=nurse)
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert changed.headers["content-type"] == "application/problem+json"
    other_caller = harness.client.post(
        "/v1/patients", json=body, headers={**harness.auth("doctor"), "Idempotency-Key": "reg-0001"}
    )
    assert other_caller.status_code == 201 and other_caller.json()["patient_id"] != first.json()["patient_id"]
    plain = harness.client.post("/v1/patients", json=body, headers=harness.auth("nurse"))
    assert plain.status_code == 201 and "Idempotent-Replayed" not in plain.headers  # no key: no replay
    assert _patient_count(harness) == 3


def test_keys_are_kept_in_the_record_store_across_api_processes(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    nurse = {**h.auth("nurse"), "Idempotency-Key": "reg-0002"}
    first = h.client.post("/v1/patients", json={"name": "Ravi Kumar"}, headers=nurse)
    from fastapi.testclient import TestClient

    from backend.api.app import create_app

    second_process = TestClient(create_app(h.app, start_worker=False))  # its own store adapter, same database
    again = second_process.post("/v1/patients", json={"name": "Ravi Kumar"}, headers=nurse)
    assert again.status_code == 201 and again.json()["patient_id"] == first.json()["patient_id"]
    assert _patient_count(h) == 1


def test_keys_are_kept_in_dynamodb_when_the_records_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from backend.adapters.records.dynamodb.idempotency import DynamoIdempotencyStore
    from backend.api.app import create_app

    monkeypatch.setenv("AWS_ENDPOINT_URL", dynamodb_local().endpoint_url)
    with fresh_tables("i") as (_, prefix):
        h = api_harness(tmp_path, demo=False, store="dynamodb", table_prefix=prefix)
        assert isinstance(h.api.state.idempotency.store, DynamoIdempotencyStore)
        nurse = {**h.auth("nurse"), "Idempotency-Key": "reg-ddb"}
        first = h.client.post("/v1/patients", json={"name": "Ravi Kumar"}, headers=nurse)
        assert first.status_code == 201, first.text
        second_process = TestClient(create_app(h.app, start_worker=False))
        again = second_process.post("/v1/patients", json={"name": "Ravi Kumar"}, headers=nurse)
        assert again.json()["patient_id"] == first.json()["patient_id"] and again.headers["Idempotent-Replayed"]
        assert h.app.stores.patients.count() == 1


def test_a_retried_upload_queues_one_job(harness: ApiHarness) -> None:
    harness.client.post("/v1/patients", json={"name": "Meena Iyer"}, headers=harness.auth("nurse"))
    pid = harness.app.stores.patients.list_page(None, 1).items[0].patient_id
    nurse = {**harness.auth("nurse"), "Idempotency-Key": "upload-7"}
    wav = wav_bytes(tone_bursts(1.0))
    files = {"file": ("visit.wav", wav, "audio/wav")}
    first = harness.client.post(f"/v1/patients/{pid}/recordings", files=files, headers=nurse)
    assert first.status_code == 202, first.text
    again = harness.client.post(f"/v1/patients/{pid}/recordings", files=files, headers=nurse)
    assert again.status_code == 202 and again.json()["job_id"] == first.json()["job_id"]
    assert len(harness.app.stores.jobs.list_for_patient(pid)) == 1
    other_file = {"file": ("visit.wav", wav + b"\0\0", "audio/wav")}
    reused = harness.client.post(f"/v1/patients/{pid}/recordings", files=other_file, headers=nurse)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_refusals_are_not_kept_and_keys_expire(harness: ApiHarness, clock: MsClock) -> None:
    store = _with_store(harness, clock)
    nurse = {**harness.auth("nurse"), "Idempotency-Key": "reg-0003"}
    refused = harness.client.post("/v1/patients", json={"name": "A Person", "phone": "12"}, headers=nurse)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_input"
    assert store.rows == {}  # the refusal released its claim: a corrected retry is judged afresh
    first = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert first.status_code == 201
    clock.now += DAY_MS - 1
    kept = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert kept.json()["patient_id"] == first.json()["patient_id"]
    clock.now += 1
    expired = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert expired.status_code == 201 and expired.json()["patient_id"] != first.json()["patient_id"]


def test_a_retry_while_the_first_request_runs_is_told_to_wait(harness: ApiHarness, clock: MsClock) -> None:
    store = _with_store(harness, clock)
    body = json_content(PatientIn(name="A Person"))  # the request below, as the API fingerprints it
    running = IdempotencyRecord(
        scoped_key("nurse", "reg-0004"), fingerprint("POST", "/v1/patients", body), START_MS + RUNNING_MS
    )
    assert store.claim(running, START_MS) is None  # as a first request still in progress holds it
    nurse = {**harness.auth("nurse"), "Idempotency-Key": "reg-0004"}
    busy = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress", busy.text
    assert busy.headers["Retry-After"] == "1"
    clock.now += RUNNING_MS  # the first request's process died: its claim lapses
    assert harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse).status_code == 201


def test_a_bad_key_is_refused(harness: ApiHarness) -> None:
    for key in ("", "x" * 256, "has space"):
        refused = harness.client.post(
            "/v1/patients", json={"name": "A Person"}, headers={**harness.auth("nurse"), "Idempotency-Key": key}
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _patient_count(harness) == 0


def _draft(h: ApiHarness) -> tuple[str, int]:
    created = h.client.post("/v1/patients", json={"name": "Suresh Rao"}, headers=h.auth("nurse")).json()
    note = h.app.stores.notes.add(Note(patient_id=created["patient_id"], sections={"subjective": "cough"}))
    return created["patient_id"], note.timestamp


def test_edits_carry_an_etag_and_a_stale_if_match_is_refused(harness: ApiHarness) -> None:
    pid, ts = _draft(harness)
    doctor = harness.auth("doctor")
    url = f"/v1/patients/{pid}/notes/{ts}"
    read = harness.client.get(url, headers=doctor)
    assert read.headers["ETag"] == '"1"'
    edit = {"version": 1, "sections": {"subjective": "cough for 3 days"}}
    saved = harness.client.put(url, json=edit, headers={**doctor, "If-Match": read.headers["ETag"]})
    assert saved.status_code == 200 and saved.headers["ETag"] == '"2"'
    stale = harness.client.put(url, json={**edit, "version": 2}, headers={**doctor, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert stale.headers["ETag"] == '"2"' and stale.headers["content-type"] == "application/problem+json"
    body_stale = harness.client.put(url, json=edit, headers=doctor)  # no If-Match: the body's version decides
    assert body_stale.status_code == 409 and body_stale.json()["code"] == "version_conflict"
    assert harness.client.get(url, headers=doctor).json()["sections"]["subjective"] == "cough for 3 days"


def test_a_retried_sign_returns_the_signed_note(harness: ApiHarness) -> None:
    pid, ts = _draft(harness)
    doctor = {**harness.auth("doctor"), "Idempotency-Key": "sign-1", "If-Match": '"1"'}
    url = f"/v1/patients/{pid}/notes/{ts}/sign"
    signed = harness.client.post(url, json={"version": 1}, headers=doctor)
    assert signed.status_code == 200 and signed.json()["status"] == "signed", signed.text
    again = harness.client.post(url, json={"version": 1}, headers=doctor)
    assert again.status_code == 200 and again.json() == signed.json()  # not 409 note_signed
    no_key = harness.client.post(url, json={"version": 1}, headers=harness.auth("doctor"))
    assert no_key.status_code == 409 and no_key.json()["code"] == "note_signed"
    amend = {**harness.auth("doctor"), "Idempotency-Key": "amend-1"}
    first = harness.client.post(f"/v1/patients/{pid}/notes/{ts}/amend", headers=amend)
    second = harness.client.post(f"/v1/patients/{pid}/notes/{ts}/amend", headers=amend)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert first.headers["Location"] == f"/v1/patients/{pid}/notes/{first.json()['timestamp']}"
    assert len(harness.app.stores.notes.list_for_patient(pid).items) == 2  # the original and one amendment


def test_every_refusal_is_problem_details(harness: ApiHarness) -> None:
    nurse = harness.auth("nurse")
    cases = {
        ("GET", "/v1/patients", "none"): (401, "unauthenticated"),
        ("GET", f"/v1/patients/{PID}", "nurse"): (404, "not_found"),
        ("GET", "/v1/no-such-route", "nurse"): (404, "not_found"),
        ("DELETE", "/v1/patients", "nurse"): (405, "method_not_allowed"),
        ("GET", "/v1/patients?limit=0", "nurse"): (422, "invalid_request"),
    }
    for (method, path, who), (status, code) in cases.items():
        response = harness.client.request(method, path, headers=harness.auth(who))
        problem = response.json()
        assert response.status_code == status and response.headers["content-type"] == "application/problem+json"
        assert (problem["status"], problem["code"], problem["type"]) == (status, code, f"urn:copilot:problem:{code}")
        assert problem["title"] and problem["detail"] and problem["instance"] == path.split("?")[0]
    unauthenticated = harness.client.get("/v1/patients")
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    invalid = harness.client.get("/v1/patients?limit=0", headers=nurse).json()
    assert invalid["errors"] == [
        {"loc": ["query", "limit"], "msg": "Input should be greater than or equal to 1", "type": "greater_than_equal"}
    ]


def test_the_schema_documents_refusals_retries_and_preconditions(harness: ApiHarness) -> None:
    schema = harness.client.get("/openapi.json").json()
    register = schema["paths"]["/v1/patients"]["post"]
    assert {p["name"] for p in register["parameters"]} >= {"Idempotency-Key"}
    for status in ("401", "403", "404", "409", "422", "429"):
        content = register["responses"][status]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert content["application/problem+json"]["example"]["code"]
    edit = schema["paths"]["/v1/patients/{patient_id}/notes/{timestamp}"]["put"]
    assert "412" in edit["responses"] and "If-Match" in {p["name"] for p in edit["parameters"]}
    upload = schema["paths"]["/v1/patients/{patient_id}/recordings"]["post"]["responses"]
    assert {"413", "415"} <= set(upload)
    assert {t["name"] for t in schema["tags"]} >= {"patients", "recordings", "jobs", "notes", "fhir"}
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = harness.client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_a_bug_is_a_problem_without_its_trace(harness: ApiHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(patient_id: str) -> None:
        raise RuntimeError("secret internals: patient Asha Devi")

    monkeypatch.setattr(harness.app.stores.patients, "get", broken)  # a fault injected into the real store
    response = harness.client.get(f"/v1/patients/{PID}", headers=harness.auth("nurse"))
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error" and "Asha" not in response.text


def test_job_lists_are_capped(harness: ApiHarness) -> None:
    pid, _ = _draft(harness)
    wav = wav_bytes(tone_bursts(1.0))
    for n in range(3):
        files = {"file": (f"visit{n}.wav", wav + bytes(2 * n), "audio/wav")}
        assert harness.client.post(
            f"/v1/patients/{pid}/recordings", files=files, headers=harness.auth("nurse")
        ).is_success
    listed = harness.client.get(f"/v1/patients/{pid}/jobs", params={"limit": 2}, headers=harness.auth("nurse"))
    assert listed.status_code == 200 and len(listed.json()) == 2
    assert harness.client.get(f"/v1/patients/{pid}/jobs?limit=51", headers=harness.auth("nurse")).status_code == 422


class _DownOnComplete(FakeIdempotencyStore):
    """The record store fails just after the work was done (the answer cannot be kept)."""

    def complete(self, record: IdempotencyRecord) -> None:
        raise StoreUnavailable("The record store is unreachable.")


def test_work_done_is_answered_even_when_its_answer_cannot_be_kept(harness: ApiHarness, clock: MsClock) -> None:
    harness.api.state.idempotency = Idempotency(_DownOnComplete(), clock)
    nurse = {**harness.auth("nurse"), "Idempotency-Key": "reg-0005"}
    first = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert first.status_code == 201 and harness.app.stores.patients.count() == 1  # not a 503 for work that happened
    retry = harness.client.post("/v1/patients", json={"name": "A Person"}, headers=nurse)
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency_in_progress"
    assert harness.app.stores.patients.count() == 1
