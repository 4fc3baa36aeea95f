"""Every cloud engine timing out: the offline engine takes over and the user is told so (a banner).

One local server accepts connections and never answers in time, standing in for Gemini (speech and drafting,
the real google-genai SDK) and AWS Textract (the real botocore client). Each client has a 1-second timeout; the
server answers (503) only after ``HOLD_S``, so a "timed out" banner proves the client gave up on its own short
timeout and not on an SDK default (a minute, or never). No wall-clock budget: load can only make a 1-second timer
late, and not by ``HOLD_S``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from backend.adapters.fallback import FallbackOcr
from backend.adapters.ocr.aws_textract import TextractOcr
from backend.adapters.ocr.rapidocr_engine import shared_engine
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import JobStatus, Role
from backend.formats import documents
from backend.services.access import Principal
from backend.services.digitize import DigitizeDeps, read_document
from backend.services.patients import PatientInput, register_patient
from backend.services.scribe import process_job, submit_recording
from tests.helpers.prescriptions import png_bytes, render_prescription
from tests.helpers.speech import synth_samples, wav_bytes, whisper_model_dir

__all__ = ["whisper_model_dir"]  # fixture imported for pytest

NURSE = Principal("nurse", Role.NURSE)
HOLD_S = 30.0  # far longer than every client's 1-second timeout, far shorter than the SDKs' defaults


class _Hang(BaseHTTPRequestHandler):
    requests = 0
    release = threading.Event()  # set when the test ends, so no handler outlives its server

    def _stall(self) -> None:
        type(self).requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        type(self).release.wait(HOLD_S)
        try:
            self.send_response(503)
            self.end_headers()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = _stall

    def log_message(self, *args: object) -> None:
        pass


def aws_client(service: str, url: str) -> Any:
    """A real botocore client for ``service`` at ``url``: 1-second timeouts, botocore's own retries off."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def hanging_url() -> Iterator[str]:
    _Hang.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Hang.release.set()
    server.shutdown()
    server.server_close()


def test_scribe_falls_back_to_offline_speech_and_drafting(
    tmp_path: Path, hanging_url: str, whisper_model_dir: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        store="sqlite",
        blobs="local",
        queue="sqlite",
        stt="gemini",
        llm="gemini",
        gemini_api_key="test-key-not-real",  # type: ignore[arg-type]
        gemini_base_url=hanging_url,
        gemini_timeout_s=1.0,
        gemini_max_attempts=1,
        whisper_model=str(whisper_model_dir),
    )
    app = build_app(settings)
    pid = register_patient(app.stores, NURSE, PatientInput(name="Cloud Down")).patient.patient_id
    audio = wav_bytes(synth_samples("I have had a headache for three days. Take paracetamol five hundred milligrams."))
    deps = app.scribe_deps()
    job = submit_recording(deps, NURSE, pid, audio, "visit.wav")
    process_job(deps, job.job_id)

    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.READY, done.error
    note = app.stores.notes.get(pid, done.result_note_ts or 0)
    assert any("headache" in s.text.lower() for s in note.transcript)  # whisper transcribed it
    banner = note.provenance.engine_fallback or ""
    assert "Transcribed by the offline engine" in banner and "Drafted by the offline engine" in banner
    assert "timed out" in banner  # both clients gave up on their 1-second timeout, before the server's 503
    assert note.provenance.engine == "rules"
    # The admin's Engines tab sees the same story.
    assert app.speech().transcriber.last_error and app.drafter().last_fallback


def test_digitize_falls_back_to_offline_ocr(tmp_path: Path, hanging_url: str) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    pid = register_patient(app.stores, NURSE, PatientInput(name="Textract Down")).patient.patient_id
    engine = FallbackOcr(TextractOcr(client=aws_client("textract", hanging_url)), shared_engine())
    base = app.digitize_deps()
    deps = DigitizeDeps(
        stores=base.stores,
        blobs=base.blobs,
        ocr=lambda: engine,
        load_document=documents.load_document,
        read_pages=documents.ocr_document,
        mime_of=base.mime_of,
    )
    image = png_bytes(render_prescription(["Tab Metformin 500 mg 1-0-1 x 30 days", "Tab Amlodipine 5 mg OD"]))
    reading = read_document(deps, NURSE, pid, image, "rx.png")
    assert "Read by the offline engine" in reading.banner and "textract" in reading.banner.lower()
    names = {m.name.lower() for m in reading.medications}
    assert {"metformin", "amlodipine"} <= names
    assert _Hang.requests >= 1  # the cloud engine was really tried


def test_every_llm_engine_timing_out_hands_the_draft_to_the_offline_engine(hanging_url: str) -> None:
    from backend.adapters.fallback import FallbackDrafter
    from backend.adapters.llm import LlmDrafter, RetryPolicy
    from backend.adapters.llm.bedrock import BedrockClient
    from backend.adapters.llm.openai_compat import OpenAiCompatibleClient
    from backend.domain.drafting import draft_note
    from backend.domain.models import Segment

    segments = [Segment(id=0, start=0.0, end=3.0, text="Start metformin 500 mg twice daily.", speaker="doctor")]
    once = RetryPolicy(attempts=1)
    clients = [
        BedrockClient(client=aws_client("bedrock-runtime", hanging_url), retry=once),
        OpenAiCompatibleClient(f"{hanging_url}/v1", "llama3.1:8b", timeout_s=1.0, retry=once),
    ]
    for client in clients:
        before = _Hang.requests
        drafter = FallbackDrafter(LlmDrafter(client), draft_note, cloud_name=client.name)
        content = drafter(segments)
        assert _Hang.requests == before + 1  # the engine was really tried, once
        # Timed out: it gave up on its own 1-second timeout, long before the server's answer.
        assert "timed out" in (content.provenance.engine_fallback or "") and content.provenance.engine == "rules"
        assert [m.name.lower() for m in content.medications] == ["metformin"] and any(content.sections.values())
