"""GET /v1/events over real HTTP (uvicorn on a free port, httpx streaming): events arrive as the store changes,
a reconnect with Last-Event-ID gets what happened meanwhile, idle streams get keep-alive comments, and roles
that may not read patients get no stream.

Every wait is bounded and ends on an event (a line read from the stream), never on a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from backend.domain.models import AuditEvent, Job, JobStatus, Note, NoteStatus
from tests.helpers.api_client import PID, ApiHarness, api_harness
from tests.helpers.sse_stream import BOUND_S, Stream
from tests.helpers.waits import wait_until


@dataclass
class Server:
    harness: ApiHarness
    url: str


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    harness = api_harness(tmp_path)
    harness.api.state.events_poll_s = 0.05
    harness.api.state.events_keepalive_s = 0.3
    config = uvicorn.Config(harness.api, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_until(lambda: uv.started, BOUND_S, "uvicorn to listen")
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield Server(harness, f"http://127.0.0.1:{port}")
    uv.should_exit = True
    thread.join(BOUND_S)


def _job(status: JobStatus = JobStatus.QUEUED, job_id: str = "JOB_0000000000000001") -> Job:
    return Job(job_id=job_id, kind="scribe", patient_id=PID, blob_key="audio/00/" + "0" * 64, status=status)


def _finish(h: ApiHarness, job_id: str, status: JobStatus, error: str | None = None) -> None:
    stored = h.app.stores.jobs.get(job_id)
    h.app.stores.jobs.update(stored.model_copy(update={"status": status, "error": error}), stored.version)


def test_a_nurse_hears_of_drafts_and_jobs_as_they_happen(server: Server) -> None:
    h = server.harness
    stream = Stream(server.url, h.auth("nurse")).start()
    stream.wait_open()
    h.app.stores.jobs.add(_job())
    _finish(h, "JOB_0000000000000001", JobStatus.TRANSCRIBING)  # not an event: only outcomes are
    note = h.app.stores.notes.add(Note(patient_id=PID, author="nurse", job_id="JOB_0000000000000001"))
    _finish(h, "JOB_0000000000000001", JobStatus.READY)
    h.app.stores.jobs.add(_job(job_id="JOB_0000000000000002"))
    _finish(h, "JOB_0000000000000002", JobStatus.FAILED, "No speech was heard in this recording.")

    drafted, ready, failed = stream.next_event(), stream.next_event(), stream.next_event()
    stream.close()
    assert drafted["event"] == "note.drafted"
    assert drafted["data"]["url"] == f"/v1/patients/{PID}/notes/{note.timestamp}"
    assert ready["event"] == "job.ready" and ready["data"]["job_id"] == "JOB_0000000000000001"
    assert failed["event"] == "job.failed" and failed["data"]["error"].startswith("No speech")
    assert drafted["id"] < ready["id"] < failed["id"]
    assert {e["data"]["patient_id"] for e in (drafted, ready, failed)} == {PID}


def test_a_reconnect_with_last_event_id_gets_what_happened_meanwhile(server: Server) -> None:
    h = server.harness
    first = Stream(server.url, h.auth("doctor")).start()
    first.wait_open()
    h.app.stores.jobs.add(_job())
    _finish(h, "JOB_0000000000000001", JobStatus.FAILED, "first")
    seen = first.next_event()
    first.close()

    # While no stream is open: a signature and another failure.
    note = h.app.stores.notes.add(Note(patient_id=PID, author="nurse"))
    h.app.stores.notes.update(
        note.model_copy(update={"status": NoteStatus.SIGNED, "signed_by": "doctor"}), note.version
    )
    h.app.stores.jobs.add(_job(job_id="JOB_0000000000000002"))
    _finish(h, "JOB_0000000000000002", JobStatus.FAILED, "second")

    resumed = Stream(server.url, {**h.auth("doctor"), "Last-Event-ID": str(seen["id"])}).start()
    resumed.wait_open()
    got = [resumed.next_event() for _ in range(3)]
    resumed.close()
    assert [e["event"] for e in got] == ["note.drafted", "note.signed", "job.failed"]
    assert got[2]["data"]["error"] == "second"
    assert all(e["id"] > seen["id"] for e in got)


def test_recent_activity_reaches_doctors_but_not_nurses(server: Server) -> None:
    h = server.harness
    nurse = Stream(server.url, h.auth("nurse")).start()
    doctor = Stream(server.url, h.auth("doctor")).start()
    nurse.wait_open()
    doctor.wait_open()
    h.app.stores.audit.append(AuditEvent(actor="doctor", role="doctor", action="dashboard.read"))  # quiet
    h.app.stores.audit.append(AuditEvent(actor="doctor", role="doctor", action="note.sign", patient_id=PID))
    h.app.stores.jobs.add(_job())
    _finish(h, "JOB_0000000000000001", JobStatus.FAILED, "marker")  # an event both may see, after the activity

    assert nurse.next_event()["event"] == "job.failed"  # the audit trail is not hers to read (READ_AUDIT)
    activity, failed = doctor.next_event(), doctor.next_event()
    nurse.close()
    doctor.close()
    assert activity["event"] == "activity" and failed["event"] == "job.failed"
    assert {k: activity["data"][k] for k in ("actor", "role", "action", "patient_id")} == {
        "actor": "doctor",
        "role": "doctor",
        "action": "note.sign",
        "patient_id": PID,
    }


def test_an_idle_stream_gets_keep_alive_comments(server: Server) -> None:
    stream = Stream(server.url, server.harness.auth("nurse")).start()
    stream.wait_open()
    assert stream.items.get(timeout=BOUND_S) == {"comment": "keep-alive"}
    stream.close()


@pytest.mark.parametrize(("who", "status"), [("none", 401), ("revoked", 401), ("admin", 403)])
def test_callers_who_may_not_read_patients_get_no_stream(server: Server, who: str, status: int) -> None:
    stream = Stream(server.url, server.harness.auth(who)).start()
    assert stream.status.get(timeout=BOUND_S) == status
    refused = stream.items.get(timeout=BOUND_S)
    assert refused["content_type"].startswith("application/problem+json") and refused["body"]["detail"]


def test_a_bad_last_event_id_is_refused(server: Server) -> None:
    stream = Stream(server.url, {**server.harness.auth("nurse"), "Last-Event-ID": "drop table"}).start()
    assert stream.status.get(timeout=BOUND_S) == 422
