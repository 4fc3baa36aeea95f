"""Gemini engines against a local stand-in for the Gemini REST endpoint (the real SDK, real HTTP).

The server answers with the documented ``GenerateContentResponse`` JSON (``candidates[].content.parts[].text``,
``finishReason``, ``usageMetadata``) and the documented error body (``{"error": {"code", "message",
"status", "details"}}``), and speaks the Files API's resumable upload protocol.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from backend.adapters.fallback import FallbackDrafter, FallbackTranscriber
from backend.adapters.gemini import GeminiClient, GeminiTranscriber, RetryPolicy
from backend.adapters.llm import LlmAnswerer, LlmDrafter, LlmExplainer, LlmMedicationExtractor
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment

KEY = "test-key-0123456789abcdef"
MODEL = "gemini-2.5-flash"
SEGMENTS = [
    Segment(id=0, start=0.0, end=3.0, text="What brings you in today?", speaker="doctor"),
    Segment(id=1, start=3.0, end=7.0, text="I have had a headache and fever for three days.", speaker="patient"),
    Segment(id=2, start=7.0, end=10.0, text="Your blood pressure is 150 over 95.", speaker="doctor"),
    Segment(
        id=3, start=10.0, end=14.0, text="Let's start metformin 500 mg twice daily for your diabetes.", speaker="doctor"
    ),
]


def reply(text: str, finish: str = "STOP") -> dict[str, Any]:
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 80, "totalTokenCount": 200},
        "modelVersion": MODEL,
        "responseId": "resp-1",
    }


def error(code: int, status: str, message: str, retry_delay: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
    if retry_delay:
        body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}]
    return body


DRAFT = {
    "sentences": [
        {"section": "subjective", "kind": "hpi", "text": "Headache and fever for 3 days.", "segment_ids": [1]},
        {"section": "objective", "kind": "vitals", "text": "Blood pressure 150/95.", "segment_ids": [2]},
        {"section": "plan", "kind": "plan", "text": "Start metformin 500 mg twice daily.", "segment_ids": [3]},
    ],
    "medications": [
        {
            "name": "metformin",
            "verbatim": "metformin 500 mg",
            "strength": "500 mg",
            "frequency": "twice daily",
            "segment_ids": [3],
        }
    ],
    "vitals": [{"kind": "bp", "value": "150/95", "unit": "mmHg", "segment_ids": [2]}],
    "diagnoses": [{"name": "diabetes", "segment_ids": [3]}],
    "follow_up": [],
}


@dataclass
class FakeGemini:
    """Scripted replies for generateContent, and a working Files API. Records every request."""

    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    forever: tuple[int, dict[str, Any]] | None = None
    delay_s: float = 0.0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def next_reply(self) -> tuple[int, dict[str, Any]]:
        if self.replies:
            return self.replies.pop(0)
        assert self.forever is not None, "unexpected extra request"
        return self.forever

    def generate_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(b) for m, p, _, b in self.requests if p.endswith(":generateContent")]


def _handler(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout test)
                self.wfile.write(data)

        def _record(self) -> bytes:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            fake.requests.append((self.command, self.path, dict(self.headers), body))
            return body

        def do_POST(self) -> None:
            body = self._record()
            if self.path.startswith("/upload/") and self.headers.get("X-Goog-Upload-Command") == "start":
                url = f"http://127.0.0.1:{self.headers['Host'].rsplit(':', 1)[-1]}/upload/session/1"
                self._send(200, None, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})
                return
            if self.path.startswith("/upload/session/"):
                fake.files["files/audio1"] = body
                uri = "https://generativelanguage.googleapis.com/v1beta/files/audio1"
                file = {"name": "files/audio1", "mimeType": "audio/wav", "sizeBytes": str(len(body)),
                        "state": "PROCESSING", "uri": uri}  # fmt: skip
                self._send(200, {"file": file}, {"X-Goog-Upload-Status": "final"})
                return
            if self.path.endswith(":generateContent"):
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                status, payload = fake.next_reply()
                self._send(status, payload)
                return
            self._send(404, error(404, "NOT_FOUND", "no such method"))

        def do_GET(self) -> None:
            self._record()
            if "/files/" in self.path:
                file = {"name": "files/audio1", "mimeType": "audio/wav", "state": "ACTIVE",
                        "uri": "https://generativelanguage.googleapis.com/v1beta/files/audio1"}  # fmt: skip
                self._send(200, file)
            elif self.path.rstrip("/").endswith(f"models/{MODEL}"):
                self._send(
                    200, {"name": f"models/{MODEL}", "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576}
                )
            else:
                self._send(404, error(404, "NOT_FOUND", "model not found"))

        def do_DELETE(self) -> None:
            self._record()
            fake.deleted.append(self.path.rsplit("/", 1)[-1])
            self._send(200, {})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[tuple[FakeGemini, str]]:
    state = FakeGemini()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client_for(url: str, sleeps: list[float], attempts: int = 3, timeout_s: float = 5.0) -> GeminiClient:
    return GeminiClient(
        KEY, MODEL, base_url=url, timeout_s=timeout_s, retry=RetryPolicy(attempts=attempts), sleep=sleeps.append
    )


def drafter(client: GeminiClient) -> LlmDrafter:
    return LlmDrafter(client, verify=lambda name: name == "metformin", find_drugs=_drugs)


def _drugs(text: str) -> list[str]:
    return [w for w in ("metformin", "lisinopril", "amoxicillin") if w in text.lower()]


def offline_draft(segments: Any) -> tuple[dict[str, str], dict[str, Any], list[Any]]:
    return {"subjective": "offline"}, {"sentences": []}, []


def test_valid_reply_becomes_a_grounded_note(
    fake: tuple[FakeGemini, str], sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = fake
    server.replies.append((200, reply(json.dumps(DRAFT))))
    caplog.set_level(logging.DEBUG)
    sections, fields, meds = drafter(client_for(url, sleeps))(SEGMENTS)
    assert sections["plan"] == "Start metformin 500 mg twice daily."
    assert sections["objective"] == "Blood pressure 150/95."
    assert [(m.name, m.strength, m.verified, m.evidence.segment_ids) for m in meds] == [
        ("metformin", "500 mg", True, [3])
    ]
    assert fields["unsupported"] == []
    assert fields["vitals"][0]["value"] == "150/95"
    assert {s["segment_ids"][0] for s in fields["sentences"]} == {1, 2, 3}
    # the request is the documented structured-output request, the key travels only in its header
    _method, path, headers, raw = server.requests[0]
    body = json.loads(raw)
    assert path.endswith(f"models/{MODEL}:generateContent") and headers["x-goog-api-key"] == KEY
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert "segment_ids" in body["generationConfig"]["responseSchema"]["properties"]["sentences"]["items"]["properties"]
    assert "[3] doctor: Let's start metformin" in json.dumps(body["contents"])
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_invented_medication_is_dropped_and_listed(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    invented = json.loads(json.dumps(DRAFT))
    invented["medications"].append(
        {"name": "lisinopril", "verbatim": "lisinopril 10 mg", "strength": "10 mg", "segment_ids": [2]}
    )
    invented["sentences"].append(
        {"section": "plan", "kind": "plan", "text": "Add lisinopril 10 mg daily.", "segment_ids": [2]}
    )
    invented["vitals"].append({"kind": "hr", "value": "88", "unit": "bpm", "segment_ids": [2]})
    server.replies.append((200, reply(json.dumps(invented))))
    sections, fields, meds = drafter(client_for(url, sleeps))(SEGMENTS)
    assert [m.name for m in meds] == ["metformin"]
    assert "lisinopril" not in " ".join(sections.values()).lower()
    unsupported = " | ".join(fields["unsupported"])
    assert "lisinopril 10 mg" in unsupported and "not found in the recording" in unsupported
    assert "hr 88 bpm" in unsupported


def test_malformed_but_complete_json_is_repaired(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    broken = json.dumps(DRAFT).replace('"follow_up": []}', '"follow_up": [],}')  # trailing comma
    broken = "```json\n" + broken + "\n```"
    server.replies.append((200, reply(broken)))
    sections, _fields, meds = drafter(client_for(url, sleeps))(SEGMENTS)
    assert [m.name for m in meds] == ["metformin"] and sections["plan"]


def test_truncated_reply_is_never_repaired_and_falls_back(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    text = json.dumps(DRAFT)
    server.replies.append((200, reply(text[: len(text) // 2], finish="MAX_TOKENS")))
    with pytest.raises(ProviderUnavailable, match="truncated"):
        drafter(client_for(url, sleeps))(SEGMENTS)
    server.replies.append((200, reply(text[: len(text) // 2], finish="MAX_TOKENS")))
    wrapper = FallbackDrafter(drafter(client_for(url, sleeps)), offline_draft)
    sections, fields, _ = wrapper(SEGMENTS)
    assert sections == {"subjective": "offline"}
    assert wrapper.last_fallback is not None and "truncated" in wrapper.last_fallback
    assert "truncated" in fields["engine_fallback"] and fields["engine"] == "rules"


def test_429_then_success_waits_as_told(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.replies += [
        (429, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", retry_delay="3s")),
        (200, reply(json.dumps(DRAFT))),
    ]
    _, _fields, meds = drafter(client_for(url, sleeps))(SEGMENTS)
    assert [m.name for m in meds] == ["metformin"]
    assert sleeps == [3.0] and len(server.generate_bodies()) == 2


def test_500_forever_gives_up_after_backoff_and_falls_back(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.forever = (500, error(500, "INTERNAL", "An internal error has occurred."))
    wrapper = FallbackDrafter(drafter(client_for(url, sleeps, attempts=4)), offline_draft)
    sections, _fields, _ = wrapper(SEGMENTS)
    assert sections == {"subjective": "offline"}
    assert len(server.generate_bodies()) == 4 and len(sleeps) == 3
    assert all(0 <= s <= RetryPolicy().max_delay for s in sleeps)
    assert "unavailable" in (wrapper.last_error or "") and KEY not in (wrapper.last_fallback or "")


def test_bad_key_is_not_retried_and_not_echoed(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.replies.append((400, error(400, "INVALID_ARGUMENT", f"API key not valid: {KEY}")))
    with pytest.raises(ProviderUnavailable) as caught:
        drafter(client_for(url, sleeps))(SEGMENTS)
    assert KEY not in caught.value.message and sleeps == []


def test_timeout_becomes_provider_unavailable(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.delay_s = 1.5
    server.forever = (200, reply(json.dumps(DRAFT)))
    with pytest.raises(ProviderUnavailable, match="timed out"):
        drafter(client_for(url, sleeps, attempts=2, timeout_s=0.3))(SEGMENTS)


def _speech() -> np.ndarray:
    return (0.1 * np.sin(np.linspace(0, 2000 * np.pi, 16000 * 2))).astype(np.float32)


TRANSCRIPT = {"segments": [
    {"speaker": "doctor", "start": 0.0, "end": 1.0, "text": "Any allergies?"},
    {"speaker": "patient", "start": 1.0, "end": 9.0, "text": "No, none."},
]}  # fmt: skip


def test_transcription_inline_with_speakers(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.replies.append((200, reply(json.dumps(TRANSCRIPT))))
    segments = GeminiTranscriber(client_for(url, sleeps)).transcribe(_speech(), "en")
    assert [(s.speaker, s.start, s.end, s.text) for s in segments] == [
        ("doctor", 0.0, 1.0, "Any allergies?"),
        ("patient", 1.0, 2.0, "No, none."),  # clamped to the 2-second recording
    ]
    part = server.generate_bodies()[0]["contents"][0]["parts"][1]
    inline = part["inlineData"]
    assert (inline.get("mimeType") or inline.get("mime_type")) == "audio/wav"
    assert not server.files


def test_large_audio_goes_through_the_files_api_and_is_deleted(
    fake: tuple[FakeGemini, str], sleeps: list[float]
) -> None:
    server, url = fake
    server.replies.append((200, reply(json.dumps(TRANSCRIPT))))
    segments = GeminiTranscriber(client_for(url, sleeps), inline_limit_bytes=1000).transcribe(_speech())
    assert len(segments) == 2
    assert server.files["files/audio1"][:4] == b"RIFF"
    part = server.generate_bodies()[0]["contents"][0]["parts"][1]
    file_data = part["fileData"]
    assert (file_data.get("fileUri") or file_data.get("file_uri")).endswith("files/audio1")
    assert server.deleted == ["audio1"]


def test_transcriber_falls_back_when_gemini_is_down(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.forever = (503, error(503, "UNAVAILABLE", "The model is overloaded."))

    class Offline:
        name, low_accuracy = "whisper-base", False

        def transcribe(self, samples: np.ndarray, language: str | None = None) -> list[Segment]:
            return [Segment(id=0, start=0, end=1, text="offline words")]

    wrapper = FallbackTranscriber(GeminiTranscriber(client_for(url, sleeps, attempts=2)), Offline())
    assert wrapper.transcribe(_speech())[0].text == "offline words"
    assert wrapper.last_engine == "whisper-base" and wrapper.low_accuracy is False
    assert wrapper.last_fallback is not None and "offline engine (whisper-base)" in wrapper.last_fallback


def test_medication_extraction_drops_drugs_not_in_the_text(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    meds = {"medications": [
        {"name": "paracetamol", "verbatim": "Tab Dolo 650 1-0-1 x 5 days", "strength": "650 mg", "duration": "5 days"},
        {"name": "amoxicillin", "verbatim": "Cap Amoxil 500", "strength": "500 mg"},
    ]}  # fmt: skip
    server.replies.append((200, reply(json.dumps(meds))))
    found, unsupported = LlmMedicationExtractor(client_for(url, sleeps), verify=lambda n: True).extract(
        "Rx\nTab Dolo 650 1-0-1 x 5 days\nAdv: rest, fluids"
    )
    assert [(m.name, m.strength) for m in found] == [("paracetamol", "650 mg")]
    assert any("amoxicillin" in u and "not found in the document" in u for u in unsupported)


def test_explanation_rewrite_keeps_numbers_or_the_original(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    original = "Resting heart rate 78 bpm is 12 bpm above the usual 66 bpm, 3 days running."
    good = "Your resting heart rate (78 bpm) has been 12 bpm above your usual 66 bpm for 3 days."
    server.replies += [
        (200, reply(json.dumps({"text": good}))),
        (200, reply(json.dumps({"text": "Heart rate is up by 10 bpm."}))),
    ]
    explainer = LlmExplainer(client_for(url, sleeps))
    assert explainer.rewrite(original) == good
    assert explainer.rewrite(original) == original


@dataclass
class P:
    id: str
    label: str
    text: str


def test_answers_cite_only_given_passages(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    passages = [
        P("n1", "Note 3 May", "Started metformin 500 mg twice daily."),
        P("d1", "Prescription", "Dolo 650 for fever."),
    ]
    server.replies += [
        (200, reply(json.dumps({"answer": "Metformin 500 mg twice daily.", "cited_ids": ["n1"]}))),
        (200, reply(json.dumps({"answer": "Metformin 1000 mg.", "cited_ids": ["n9"]}))),
        (200, reply(json.dumps({"answer": "Metformin 1000 mg.", "cited_ids": ["n1"]}))),
    ]
    answerer = LlmAnswerer(client_for(url, sleeps))
    assert answerer("What diabetes medicine?", passages) == ("Metformin 500 mg twice daily.", ["n1"])
    with pytest.raises(ProviderUnavailable, match="not given"):
        answerer("What diabetes medicine?", passages)
    with pytest.raises(ProviderUnavailable, match="numbers"):
        answerer("What diabetes medicine?", passages)


def test_check_reads_the_model(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    _server, url = fake
    assert "available" in client_for(url, sleeps).check()
    missing = GeminiClient(KEY, "gemini-nope", base_url=url, retry=RetryPolicy(attempts=1), sleep=sleeps.append)
    with pytest.raises(ProviderUnavailable, match="not found"):
        missing.check()
    assert "gemini-2.5-flash" in repr(client_for(url, sleeps)) and KEY not in repr(client_for(url, sleeps))


def test_providers_page_status_and_connection_test(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    from backend.services.providers import ProviderRegistry

    server, url = fake
    registry = ProviderRegistry()
    wrapper = FallbackDrafter(drafter(client_for(url, sleeps, attempts=1)), offline_draft, cloud_name=f"gemini:{MODEL}")
    registry.register("llm", "gemini", wrapper)
    assert registry.test_connection("llm") == (True, f"Gemini reachable; model models/{MODEL} available.")
    assert registry.test_connection("stt")[0] is False  # nothing built yet
    server.replies.append((429, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")))
    wrapper(SEGMENTS)
    row = {r.port: r for r in registry.status({"stt": "whisper", "ocr": "rapidocr"})}
    assert row["llm"].cloud and not row["llm"].live and row["llm"].engine == "rules"
    assert "quota" in (row["llm"].last_error or "") and row["llm"].fallback
    assert row["stt"].configured == "whisper" and not row["stt"].cloud
    server.replies.append((200, reply(json.dumps(DRAFT))))
    wrapper(SEGMENTS)
    assert {r.port: r for r in registry.status()}["llm"].live
