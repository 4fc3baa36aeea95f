"""Direct uploads against the local blob store, over the API: the form route checks the signed policy as S3
would, the arrival goes through the local inbox, and the consumer makes exactly one job per upload.

The consumer runs here step by step (``consume_one``) instead of in its thread, so each outcome is asserted.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from backend.domain.upload_policy import UploadRefused
from backend.services import uploads
from backend.worker.uploads import consume_one
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.speech import tone_bursts, wav_bytes

AUDIO = wav_bytes(tone_bursts(2.0))


@pytest.fixture
def harness(tmp_path: Path) -> ApiHarness:
    return api_harness(tmp_path, max_upload_mb=1)


def _ask(h: ApiHarness, who: str = "nurse") -> dict[str, Any]:
    response = h.client.post(f"/v1/patients/{PID}/recordings:upload-url", headers=h.auth(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _post(h: ApiHarness, form: dict[str, Any], data: bytes = AUDIO, content_type: str = "audio/wav", **change: str):  # type: ignore[no-untyped-def]
    fields = {**form["fields"], "Content-Type": content_type, **change}
    return h.client.post(form["url"], data=fields, files={"file": ("visit.wav", data, content_type)})


def _consume(h: ApiHarness) -> list[str] | None:
    deps = h.app.upload_deps()
    return consume_one(deps, deps.inbox, wait_seconds=0)


def _jobs(h: ApiHarness) -> list[Any]:
    return [j for j in h.app.stores.jobs.list_for_patient(PID, limit=200) if j.source.startswith(("direct", "upload"))]


def _audit_actions(h: ApiHarness) -> list[str]:
    with sqlite3.connect(h.app.settings.db_path) as conn:
        return [r[0] for r in conn.execute("SELECT json_extract(body, '$.action') FROM audit_log ORDER BY seq")]


def test_the_form_the_api_signs_uploads_once_and_queues_one_job(harness: ApiHarness) -> None:
    form = _ask(harness)
    assert form["url"].endswith("/v1/uploads:form") and form["max_bytes"] == 1024 * 1024
    assert form["fields"]["key"].startswith(f"uploads/{PID}/{form['upload_id']}/")
    status = harness.client.get(form["status_url"], headers=harness.auth("doctor")).json()
    assert status == {"upload_id": form["upload_id"], "status": "awaiting_upload", "error": None, "job": None}

    assert _post(harness, form).status_code == 204
    assert _consume(harness) == ["queued"]
    assert _consume(harness) is None  # one arrival, one message
    # The client sends the same form again (a retry after a lost response): the object arrives again.
    assert _post(harness, form).status_code == 204
    assert _consume(harness) == ["duplicate"]

    jobs = _jobs(harness)
    assert len(jobs) == 1 and jobs[0].status.value == "queued" and jobs[0].created_by == "nurse"
    assert harness.app.blobs.get(jobs[0].blob_key) == AUDIO
    assert harness.app.queue.depth() == 1  # type: ignore[attr-defined]
    state = harness.client.get(form["status_url"], headers=harness.auth("nurse")).json()
    assert state["status"] == "accepted" and state["job"]["job_id"] == jobs[0].job_id
    assert not list((harness.app.settings.data_dir / "uploads").rglob("*.meta"))  # staging emptied
    assert "scribe.submit" in _audit_actions(harness)


def test_a_duplicated_event_makes_one_job(harness: ApiHarness) -> None:
    form = _ask(harness)
    assert _post(harness, form).status_code == 204
    deps = harness.app.upload_deps()
    message = deps.inbox.receive(wait_seconds=0)
    assert message is not None
    assert uploads.handle_event(deps, message.body) == ["queued"]
    assert uploads.handle_event(deps, message.body) == ["gone"]  # its object was taken in already
    deps.inbox.ack(message)
    assert len(_jobs(harness)) == 1 and harness.app.queue.depth() == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "content_type", "change", "why"),
    [
        (AUDIO, "text/plain", {}, "Only audio"),
        (b"0" * (1024 * 1024 + 1), "audio/wav", {}, "1 MB"),
        (AUDIO, "audio/wav", {"key": f"uploads/{PID}/UPL_0000000000000000_9999999999/" + "0" * 32}, "key"),
        (AUDIO, "audio/wav", {"x-amz-meta-requested-by": "doctor"}, "requested-by"),
        (AUDIO, "audio/wav", {"policy": "e30="}, "signature"),
    ],
)
def test_forms_that_break_their_policy_are_refused_and_store_nothing(
    harness: ApiHarness, data: bytes, content_type: str, change: dict[str, str], why: str
) -> None:
    form = _ask(harness)
    refused = _post(harness, form, data, content_type, **change)
    assert refused.status_code == 403 and why in refused.json()["detail"], refused.text
    assert _consume(harness) is None and _jobs(harness) == []


def test_an_expired_form_is_refused(harness: ApiHarness) -> None:
    form = _ask(harness)
    later = dataclasses.replace(harness.app.upload_deps(), clock=lambda: time.time() + 3600)
    fields = {**form["fields"], "Content-Type": "audio/wav"}
    with pytest.raises(UploadRefused, match="expired"):
        uploads.accept_local_form(later, fields, "audio/wav", AUDIO)
    expired = uploads.upload_state(later, _principal("nurse"), form["upload_id"])
    assert expired.status == "expired"


def test_an_object_that_is_not_audio_is_refused_recorded_and_never_processed(harness: ApiHarness) -> None:
    form = _ask(harness)
    assert _post(harness, form, b"this is not a recording", "audio/wav").status_code == 204  # the type field lies
    assert _consume(harness) == ["refused"]
    state = harness.client.get(form["status_url"], headers=harness.auth("nurse")).json()
    assert state["status"] == "refused" and state["job"]["status"] == "failed" and state["error"]
    assert harness.app.queue.depth() == 0  # type: ignore[attr-defined]
    assert "upload.refused" in _audit_actions(harness)
    assert not list((harness.app.settings.data_dir / "uploads").rglob("*.meta"))


@pytest.mark.parametrize(("who", "status"), [("none", 401), ("admin", 403)])
def test_only_roles_that_record_get_an_upload_url(harness: ApiHarness, who: str, status: int) -> None:
    response = harness.client.post(f"/v1/patients/{PID}/recordings:upload-url", headers=harness.auth(who))
    assert response.status_code == status


def test_an_unknown_patient_gets_no_upload_url(harness: ApiHarness) -> None:
    response = harness.client.post("/v1/patients/PAT_00000000/recordings:upload-url", headers=harness.auth("nurse"))
    assert response.status_code == 404


def test_a_malformed_upload_id_is_a_422(harness: ApiHarness) -> None:
    assert harness.client.get("/v1/uploads/UPL_nope", headers=harness.auth("nurse")).status_code == 422


def _principal(name: str) -> Any:
    from backend.domain.models import Role
    from backend.services.access import Principal

    return Principal(name, Role(name))


class _QueueThatFailsOnce:
    """The app's queue, except that the first send fails (the process dies between the job and its message)."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.failed = queue, False

    def send(self, job_id: str) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("lost the queue")
        self.queue.send(job_id)


def test_a_redelivery_after_a_crash_between_job_and_message_sends_the_message(harness: ApiHarness) -> None:
    form = _ask(harness)
    assert _post(harness, form).status_code == 204
    deps = harness.app.upload_deps()
    flaky = dataclasses.replace(
        deps, scribe=dataclasses.replace(deps.scribe, queue=_QueueThatFailsOnce(harness.app.queue))
    )
    assert consume_one(flaky, deps.inbox, wait_seconds=0) == ["failed"]  # not acked: it comes back
    assert len(_jobs(harness)) == 1 and harness.app.queue.depth() == 0  # type: ignore[attr-defined]
    with sqlite3.connect(harness.app.settings.db_path) as conn:  # its visibility timeout runs out
        conn.execute("UPDATE inbox SET visible_at = 0")
    message = deps.inbox.receive(wait_seconds=0)
    assert message is not None and message.receive_count == 2
    assert uploads.handle_event(flaky, message.body, redelivered=True) == ["duplicate"]
    assert len(_jobs(harness)) == 1 and harness.app.queue.depth() == 1  # type: ignore[attr-defined]
