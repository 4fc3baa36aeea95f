"""Secrets never reach logs, stored records, error messages or reprs.

A scribe run, the admin's connection test and an Ask run with ``COPILOT_GEMINI_API_KEY=fake-secret-XYZ``
against a local stand-in for Gemini that fails every call — half with 500, half with a 403 whose message
echoes the key back (the worst case). Every log record of every logger (DEBUG and up, the SDK's and
httpx's included) and everything printed is captured and searched for the key.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import JobStatus, Role
from backend.services import providers
from backend.services.access import Principal
from backend.services.ask import ask
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import process_job, submit_recording
from tests.helpers.speech import synth_samples, wav_bytes, whisper_model_dir

__all__ = ["whisper_model_dir"]  # fixture imported for pytest

KEY = "fake-secret-XYZ"
NURSE = Principal("nurse", Role.NURSE)
DOCTOR = Principal("doctor", Role.DOCTOR)
ADMIN = Principal("admin", Role.ADMIN)


class _Failing(BaseHTTPRequestHandler):
    calls = 0
    keys_seen: ClassVar[set[str]] = set()

    def _fail(self) -> None:
        type(self).calls += 1
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        key = self.headers.get("x-goog-api-key") or parse_qs(urlparse(self.path).query).get("key", [""])[0]
        type(self).keys_seen.add(key)
        if type(self).calls % 2:
            code, status, message = 500, "INTERNAL", "Internal error encountered."
        else:
            code, status, message = (
                403,
                "PERMISSION_DENIED",
                f"API key {key} is not valid. Please pass a valid API key.",
            )
        body = json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _fail

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gemini_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_api_key_never_leaks(
    tmp_path: Path,
    gemini_url: str,
    whisper_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "COPILOT_GEMINI_API_KEY": KEY,
        "COPILOT_GEMINI_BASE_URL": gemini_url,
        "COPILOT_GEMINI_MAX_ATTEMPTS": "2",
        "COPILOT_GEMINI_TIMEOUT_S": "5",
        "COPILOT_STT": "gemini",
        "COPILOT_DATA_DIR": str(tmp_path),
        "COPILOT_WHISPER_MODEL": str(whisper_model_dir),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
    }.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records propagate here
    for noisy in ("httpx", "httpcore", "google_genai", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG)

    app = build_app(Settings())
    assert app.providers["llm"] == "gemini" and app.providers["stt"] == "gemini"
    pid = register_patient(app.stores, NURSE, PatientInput(name="Secret Keeper")).patient.patient_id
    deps = app.scribe_deps()
    job = submit_recording(deps, NURSE, pid, wav_bytes(synth_samples("I have a cough and a mild fever.")), "v.wav")
    process_job(deps, job.job_id)
    ok, message = providers.test_provider(ADMIN, app.registry, app.stores, "llm")
    statuses = providers.provider_statuses(ADMIN, app.registry, app.providers)
    answer = ask(app.stores, DOCTOR, pid, "Does the patient have a fever?", llm=app.answerer())
    logging.getLogger("test").error("settings %r app %r client %r", app.settings, app, app.gemini())

    assert _Failing.calls >= 4 and KEY in _Failing.keys_seen  # the key was really sent, and really echoed back
    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY  # offline engines took over
    note = app.stores.notes.get(pid, done.result_note_ts or 0)
    out, err = capfd.readouterr()
    surfaces = {
        "logs": "\n".join(r.getMessage() + repr(r.args) + (r.exc_text or "") for r in caplog.records) + caplog.text,
        "stdout/stderr": out + err,
        "job": done.model_dump_json(),
        "note": note.model_dump_json(),
        "provider test": f"{ok} {message}",
        "provider statuses": repr(statuses),
        "answer": repr(answer),
        "reprs": repr(app) + repr(app.settings) + str(app.settings.model_dump()),
        "database": (tmp_path / "copilot.sqlite3").read_bytes().decode("latin-1"),
    }
    assert len(caplog.records) > 10
    leaked = [where for where, text in surfaces.items() if KEY in text]
    assert not leaked, f"the API key appears in: {leaked}"
    assert "***" in message or "refused the API key" in message or "unavailable" in message.lower()
