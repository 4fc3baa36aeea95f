"""Local stand-ins for the LLM services, speaking each one's documented wire format over real HTTP.

- :class:`FakeGemini`: the Gemini REST endpoint (``GenerateContentResponse`` JSON, the documented error body
  ``{"error": {"code", "message", "status", "details"}}``, and the Files API's resumable upload protocol).
- :class:`FakeChat`: an OpenAI-compatible ``/chat/completions`` server (standard and Azure deployment URL
  forms, the documented ``choices[].message`` / ``finish_reason`` reply, the ``{"error": {...}}`` body,
  ``Retry-After`` on 429), optionally refusing ``response_format`` like servers without structured output.

Each records the requests it received. :func:`serve` runs a handler on a loopback port for one test.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.http_server import send_json
from tests.helpers.http_server import serve as serve  # re-exported: the LLM tests take it from here

MODEL = "gemini-2.5-flash"


# --- Gemini -------------------------------------------------------------------------------------------


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


@dataclass
class FakeGemini:
    """Scripted replies for generateContent, and a working Files API. Records every request."""

    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    forever: tuple[int, dict[str, Any]] | None = None
    delay_s: float = 0.0  # hold generateContent this long (or until ``released``) before answering
    released: threading.Event = field(default_factory=threading.Event)
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


def gemini_handler(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def send_json(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
            send_json(self, status, body, headers)

        def _record(self) -> bytes:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            fake.requests.append((self.command, self.path, dict(self.headers), body))
            return body

        def do_POST(self) -> None:
            body = self._record()
            if self.path.startswith("/upload/") and self.headers.get("X-Goog-Upload-Command") == "start":
                url = f"http://127.0.0.1:{self.headers['Host'].rsplit(':', 1)[-1]}/upload/session/1"
                self.send_json(200, None, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})
                return
            if self.path.startswith("/upload/session/"):
                fake.files["files/audio1"] = body
                uri = "https://generativelanguage.googleapis.com/v1beta/files/audio1"
                file = {"name": "files/audio1", "mimeType": "audio/wav", "sizeBytes": str(len(body)),
                        "state": "PROCESSING", "uri": uri}  # fmt: skip
                self.send_json(200, {"file": file}, {"X-Goog-Upload-Status": "final"})
                return
            if self.path.endswith(":generateContent"):
                if fake.delay_s:
                    fake.released.wait(fake.delay_s)
                status, payload = fake.next_reply()
                self.send_json(status, payload)
                return
            self.send_json(404, error(404, "NOT_FOUND", "no such method"))

        def do_GET(self) -> None:
            self._record()
            if "/files/" in self.path:
                file = {"name": "files/audio1", "mimeType": "audio/wav", "state": "ACTIVE",
                        "uri": "https://generativelanguage.googleapis.com/v1beta/files/audio1"}  # fmt: skip
                self.send_json(200, file)
            elif self.path.rstrip("/").endswith(f"models/{MODEL}"):
                self.send_json(
                    200, {"name": f"models/{MODEL}", "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576}
                )
            else:
                self.send_json(404, error(404, "NOT_FOUND", "model not found"))

        def do_DELETE(self) -> None:
            self._record()
            fake.deleted.append(self.path.rsplit("/", 1)[-1])
            self.send_json(200, {})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


# --- OpenAI-compatible chat completions ---------------------------------------------------------------


def chat_reply(content: str | None, finish: str = "stop", refusal: str | None = None) -> dict[str, Any]:
    """A documented chat-completion object with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "llama3.1:8b",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200},
    }


def chat_error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass
class FakeChat:
    """Scripted ``/chat/completions`` replies: ``(status, body, headers)``; records ``(path, headers, body)``.

    ``schema_supported=False`` makes it answer 400 to any request carrying ``response_format``, the way a
    server without structured outputs does.
    """

    replies: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    forever: tuple[int, dict[str, Any], dict[str, str]] | None = None
    schema_supported: bool = True
    delay_s: float = 0.0  # hold each completion this long (or until ``released``) before answering
    released: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def next_reply(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.replies:
            return self.replies.pop(0)
        assert self.forever is not None, "unexpected extra request"
        return self.forever

    def bodies(self) -> list[dict[str, Any]]:
        return [b for _, _, b in self.requests]


def chat_handler(fake: FakeChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                send_json(self, 400, chat_error("body is not JSON"))
                return
            fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if not self.path.split("?", 1)[0].endswith("/chat/completions"):
                send_json(self, 404, chat_error("Not found", "not_found_error"))
                return
            if "response_format" in body and not fake.schema_supported:
                send_json(self, 400, chat_error("Unrecognized request argument supplied: response_format"))
                return
            if fake.delay_s:
                fake.released.wait(fake.delay_s)
            status, payload, headers = fake.next_reply()
            send_json(self, status, payload, headers)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
