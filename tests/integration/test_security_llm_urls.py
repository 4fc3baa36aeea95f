"""Engine addresses: clinical text goes over HTTPS, or plain HTTP only to a server on this machine.

The clients are built with a transport that records every request, so a refused address is shown to send
nothing; an allowed loopback address is then used for real against a local HTTP server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from pydantic import BaseModel

from backend.adapters.llm.endpoints import check_base_url, is_loopback
from backend.adapters.llm.gemini import GeminiClient
from backend.adapters.llm.openai_compat import OpenAiCompatibleClient
from backend.domain.errors import ProviderUnavailable
from tests.helpers.http_server import QuietHandler, send_json, serve

REMOTE_PLAIN = [
    "http://192.168.1.20:11434/v1",
    "http://ollama.clinic.example/v1",
    "http://localhost.evil.example/v1",  # a name that merely starts like localhost
    "http://127.0.0.1.nip.example/v1",
    "HTTP://10.0.0.5/v1",
]
ALLOWED = ["https://api.openai.com/v1", "http://localhost:11434/v1", "http://127.0.0.1:8080", "http://[::1]:9000/v1"]


class Answer(BaseModel):
    text: str


def _recording_transport(seen: list[httpx2.Request]) -> httpx2.MockTransport:
    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(500)

    return httpx2.MockTransport(handle)


@pytest.mark.parametrize("url", REMOTE_PLAIN)
def test_plain_http_to_another_host_is_refused_before_anything_is_sent(url: str) -> None:
    seen: list[httpx2.Request] = []
    with pytest.raises(ProviderUnavailable, match="COPILOT_OPENAI_BASE_URL is plain http://"):
        OpenAiCompatibleClient(url, "llama3.1:8b", transport=_recording_transport(seen))
    with pytest.raises(ProviderUnavailable, match="COPILOT_GEMINI_BASE_URL is plain http://"):
        GeminiClient("test-key", base_url=url)
    assert seen == []


@pytest.mark.parametrize("url", ["ftp://example.org/v1", "file:///etc/passwd", "not a url"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ProviderUnavailable, match="must be an https:// address"):
        check_base_url(url, "COPILOT_OPENAI_BASE_URL")


@pytest.mark.parametrize("url", ALLOWED)
def test_https_and_loopback_addresses_are_accepted(url: str) -> None:
    assert OpenAiCompatibleClient(url, "model").base_url == url.rstrip("/")
    GeminiClient("test-key", base_url=url)


def test_loopback_is_decided_by_address_not_by_prefix() -> None:
    assert is_loopback("127.8.9.10") and is_loopback("::1") and is_loopback("LOCALHOST.") and is_loopback("a.localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("localhost.example") and not is_loopback("::ffff:10.0.0.1")


@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = {"choices": [{"message": {"content": json.dumps({"text": "ok"})}, "finish_reason": "stop"}]}
            send_json(self, 200, body)

    with serve(Handler) as url:
        yield f"{url}/v1"


def test_a_server_on_this_machine_still_works_over_plain_http(local_server: str) -> None:
    client = OpenAiCompatibleClient(local_server, "llama3.1:8b", json_mode="schema")
    assert client.generate_json("system", "question", Answer).text == "ok"
