"""What is Gemini's own, against a local stand-in for the Gemini REST endpoint (the real SDK, real HTTP).

The request shape, the API key's handling, timeouts, audio transcription (inline and through the Files API),
the connection test and the providers page. The checks every LLM engine shares (grounding, truncation,
repair, backoff, fallback) run once for all engines in ``test_llm_engines_shared.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from backend.adapters.fallback import FallbackDrafter, FallbackTranscriber
from backend.adapters.llm import LlmDrafter
from backend.adapters.llm.gemini import GeminiClient
from backend.adapters.llm.retries import RetryPolicy
from backend.adapters.speech.gemini_transcription import GeminiTranscriber
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment
from backend.domain.note_content import NoteContent
from tests.helpers.llm_servers import MODEL, FakeGemini, error, gemini_handler, reply, serve
from tests.integration.llm_harness import DRAFT, KEY, SEGMENTS


@pytest.fixture
def fake() -> Iterator[tuple[FakeGemini, str]]:
    state = FakeGemini()
    with serve(gemini_handler(state)) as url:
        yield state, url
        state.released.set()  # requests still held by a timeout test end now


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


def offline_draft(segments: Any) -> NoteContent:
    return NoteContent(sections={"subjective": "offline"})


def test_request_is_the_documented_structured_output_request(
    fake: tuple[FakeGemini, str], sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = fake
    server.replies.append((200, reply(json.dumps(DRAFT))))
    caplog.set_level(logging.DEBUG)
    content = drafter(client_for(url, sleeps))(SEGMENTS)
    assert content.sections["plan"] == "Start metformin 500 mg twice daily."
    assert content.sections["objective"] == "Blood pressure 150/95."
    assert [(m.name, m.strength, m.verified, m.evidence.segment_ids) for m in content.medications] == [
        ("metformin", "500 mg", True, [3])
    ]
    assert content.provenance.unsupported == []
    assert content.vitals[0].value == "150/95"
    assert {s.segment_ids[0] for s in content.sentences} == {1, 2, 3}
    # the request is the documented structured-output request, the key travels only in its header
    _method, path, headers, raw = server.requests[0]
    body = json.loads(raw)
    assert path.endswith(f"models/{MODEL}:generateContent") and headers["x-goog-api-key"] == KEY
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert "segment_ids" in body["generationConfig"]["responseSchema"]["properties"]["sentences"]["items"]["properties"]
    assert "[3] doctor: Let's start metformin" in json.dumps(body["contents"])
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_bad_key_is_not_retried_and_not_echoed(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.replies.append((400, error(400, "INVALID_ARGUMENT", f"API key not valid: {KEY}")))
    with pytest.raises(ProviderUnavailable) as caught:
        drafter(client_for(url, sleeps))(SEGMENTS)
    assert KEY not in caught.value.message and sleeps == []


def test_timeout_becomes_provider_unavailable(fake: tuple[FakeGemini, str], sleeps: list[float]) -> None:
    server, url = fake
    server.delay_s = 30.0  # far beyond the 0.3 s timeout: only the client's own timeout can end the call
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
