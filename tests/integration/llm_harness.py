"""The same scripted situations for every LLM engine, each in that engine's own wire format.

A harness queues replies ("a complete reply carrying this text", "cut off at the token limit", "stopped by
the safety filter", "throttled", "down for good") and builds a client of the real adapter pointed at its
fake: Gemini and OpenAI-compatible engines at a local HTTP server (real SDK / real HTTP), Bedrock at a
real ``bedrock-runtime`` client whose ``converse`` calls a botocore Stubber answers with documented responses.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, Protocol

import boto3
from botocore.stub import Stubber

from backend.adapters.llm import RetryPolicy, StructuredLlm
from backend.adapters.llm.bedrock import BedrockClient
from backend.adapters.llm.gemini import GeminiClient
from backend.adapters.llm.openai_compat import OpenAiCompatibleClient
from backend.adapters.llm.replies import Reply
from backend.domain.models import Segment
from tests.fakes.llm import Down, ScriptedLlm, Throttled
from tests.helpers.llm_servers import (
    MODEL,
    FakeChat,
    FakeGemini,
    chat_error,
    chat_handler,
    chat_reply,
    error,
    gemini_handler,
    reply,
    serve,
)

ENGINES = ("gemini", "bedrock", "openai", "fake")  # fake: the unit tests' scripted client, held to the same
KEY = "test-key-0123456789abcdef"
BEDROCK_MODEL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"

SEGMENTS = [
    Segment(id=0, start=0.0, end=3.0, text="What brings you in today?", speaker="doctor"),
    Segment(id=1, start=3.0, end=7.0, text="I have had a headache and fever for three days.", speaker="patient"),
    Segment(id=2, start=7.0, end=10.0, text="Your blood pressure is 150 over 95.", speaker="doctor"),
    Segment(
        id=3, start=10.0, end=14.0, text="Let's start metformin 500 mg twice daily for your diabetes.", speaker="doctor"
    ),
]
DRAFT: dict[str, Any] = {
    "sentences": [
        {"section": "subjective", "kind": "hpi", "text": "Headache and fever for 3 days.", "segment_ids": [1]},
        {"section": "objective", "kind": "vitals", "text": "Blood pressure 150/95.", "segment_ids": [2]},
        {"section": "plan", "kind": "plan", "text": "Start metformin 500 mg twice daily.", "segment_ids": [3]},
    ],
    "medications": [
        {"name": "metformin", "verbatim": "metformin 500 mg", "strength": "500 mg", "frequency": "twice daily",
         "segment_ids": [3]},
    ],
    "vitals": [{"kind": "bp", "value": "150/95", "unit": "mmHg", "segment_ids": [2]}],
    "diagnoses": [{"name": "diabetes", "segment_ids": [3]}],
    "follow_up": [],
}  # fmt: skip


class Harness(Protocol):
    name: str
    sleeps: list[float]
    throttle_hint: float | None  # the wait the throttled reply asks for (None: the engine sends no hint)

    def ok(self, text: str) -> None: ...
    def truncated(self, text: str) -> None: ...
    def filtered(self) -> None: ...
    def throttled(self) -> None: ...
    def down(self, times: int) -> None: ...
    def client(self, attempts: int = 3) -> StructuredLlm: ...
    def calls(self) -> int: ...


class GeminiHarness:
    name = "gemini"
    throttle_hint: float | None = 3.0

    def __init__(self, fake: FakeGemini, url: str) -> None:
        self.fake, self.url, self.sleeps = fake, url, []

    def ok(self, text: str) -> None:
        self.fake.replies.append((200, reply(text)))

    def truncated(self, text: str) -> None:
        self.fake.replies.append((200, reply(text, finish="MAX_TOKENS")))

    def filtered(self) -> None:
        self.fake.replies.append((200, reply("", finish="SAFETY")))

    def throttled(self) -> None:
        self.fake.replies.append((429, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", retry_delay="3s")))

    def down(self, times: int) -> None:
        self.fake.replies += [(500, error(500, "INTERNAL", "An internal error has occurred."))] * times

    def client(self, attempts: int = 3) -> StructuredLlm:
        policy = RetryPolicy(attempts=attempts)
        return GeminiClient(KEY, MODEL, base_url=self.url, timeout_s=5.0, retry=policy, sleep=self.sleeps.append)

    def calls(self) -> int:
        return len(self.fake.generate_bodies())


class OpenAiHarness:
    name = "openai"
    throttle_hint: float | None = 3.0

    def __init__(self, fake: FakeChat, url: str) -> None:
        self.fake, self.url, self.sleeps = fake, url, []

    def ok(self, text: str) -> None:
        self.fake.replies.append((200, chat_reply(text), {}))

    def truncated(self, text: str) -> None:
        self.fake.replies.append((200, chat_reply(text, finish="length"), {}))

    def filtered(self) -> None:
        self.fake.replies.append((200, chat_reply(None, finish="content_filter"), {}))

    def throttled(self) -> None:
        body = chat_error("Rate limit reached for requests", "rate_limit_error", "rate_limit_exceeded")
        self.fake.replies.append((429, body, {"Retry-After": "3"}))

    def down(self, times: int) -> None:
        self.fake.replies += [(503, chat_error("The server is overloaded", "server_error"), {})] * times

    def client(self, attempts: int = 3) -> StructuredLlm:
        return OpenAiCompatibleClient(
            f"{self.url}/v1",
            "llama3.1:8b",
            api_key=KEY,
            timeout_s=5.0,
            retry=RetryPolicy(attempts=attempts),
            sleep=self.sleeps.append,
        )

    def calls(self) -> int:
        return len(self.fake.requests)


def converse_response(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    """A documented ``Converse`` response."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 120, "outputTokens": 80, "totalTokens": 200},
        "metrics": {"latencyMs": 850},
    }


class BedrockHarness:
    """Replies are queued on a Stubber; the tool the reply "calls" is the one the request declared."""

    name = "bedrock"
    throttle_hint: float | None = None  # ThrottlingException carries no wait: jittered backoff

    def __init__(self) -> None:
        self.runtime = boto3.client(
            "bedrock-runtime", region_name="ap-south-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stubber = Stubber(self.runtime)
        self.stubber.activate()
        self.requests: list[dict[str, Any]] = []
        self.runtime.meta.events.register("before-parameter-build.bedrock-runtime.Converse", self._record)
        self.sleeps: list[float] = []
        self._queue: list[tuple[str, Any]] = []

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params)

    def ok(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            # the tool's name is only known once the request exists: ToolNamer fills it in
            self.stubber.add_response("converse", converse_response([{"toolUse": self._tool_use(data)}], "tool_use"))
        else:
            self.stubber.add_response("converse", converse_response([{"text": text}], "end_turn"))

    def _tool_use(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"toolUseId": f"tooluse_{len(self.requests)}", "name": "__TOOL__", "input": data}

    def truncated(self, text: str) -> None:
        self.stubber.add_response("converse", converse_response([{"text": text}], "max_tokens"))

    def filtered(self) -> None:
        self.stubber.add_response("converse", converse_response([{"text": ""}], "content_filtered"))

    def throttled(self) -> None:
        self.stubber.add_client_error(
            "converse", "ThrottlingException", "Too many requests, please wait before trying again.", 429
        )

    def down(self, times: int) -> None:
        for _ in range(times):
            self.stubber.add_client_error("converse", "ServiceUnavailableException", "Service unavailable.", 503)

    def client(self, attempts: int = 3) -> StructuredLlm:
        return BedrockClient(
            BEDROCK_MODEL,
            client=ToolNamer(self.runtime),
            retry=RetryPolicy(attempts=attempts),
            sleep=self.sleeps.append,
        )

    def calls(self) -> int:
        return len(self.requests)


class ToolNamer:
    """Passes ``converse`` through and names the tool in a stubbed ``toolUse`` after the request's tool.

    A real model calls the tool the request forces; the stubbed responses are queued before the request
    exists, so the placeholder name is filled in here, from the request itself.
    """

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self.meta = runtime.meta

    def converse(self, **request: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._runtime.converse(**request)
        forced = request.get("toolConfig", {}).get("toolChoice", {}).get("tool", {}).get("name")
        for block in response.get("output", {}).get("message", {}).get("content", []):
            if "toolUse" in block and block["toolUse"]["name"] == "__TOOL__":
                block["toolUse"]["name"] = forced or "unrequested_tool"
        return response


class FakeHarness:
    """The unit tests' scripted client (``tests/fakes/llm.py``): the same checks, with no wire format at all."""

    name = "fake"
    throttle_hint: float | None = 3.0

    def __init__(self) -> None:
        self.script: list[Reply | Exception] = []
        self.requests: list[dict[str, Any]] = []
        self.sleeps: list[float] = []

    def ok(self, text: str) -> None:
        self.script.append(Reply(text, "stop"))

    def truncated(self, text: str) -> None:
        self.script.append(Reply(text, "length", "output token limit"))

    def filtered(self) -> None:
        self.script.append(Reply("", "other", "safety filter"))

    def throttled(self) -> None:
        self.script.append(Throttled(retry_after=3.0))

    def down(self, times: int) -> None:
        self.script += [Down("503 service unavailable")] * times

    def client(self, attempts: int = 3) -> StructuredLlm:
        return ScriptedLlm(
            self.script, requests=self.requests, retry=RetryPolicy(attempts=attempts), sleep=self.sleeps.append
        )

    def calls(self) -> int:
        return len(self.requests)


@contextlib.contextmanager
def harness(name: str) -> Iterator[Harness]:
    if name == "fake":
        yield FakeHarness()
    elif name == "gemini":
        gemini = FakeGemini()
        with serve(gemini_handler(gemini)) as url:
            yield GeminiHarness(gemini, url)
    elif name == "openai":
        chat = FakeChat()
        with serve(chat_handler(chat)) as url:
            yield OpenAiHarness(chat, url)
    else:
        bedrock = BedrockHarness()
        yield bedrock
        bedrock.stubber.deactivate()
