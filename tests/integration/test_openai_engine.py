"""The OpenAI-compatible engine's own behaviour, against a local server speaking the chat-completions format.

URL and header forms (standard, Azure OpenAI, a keyless local server), structured output with a fallback to
JSON-in-text for servers that refuse ``response_format``, key handling, refusals, timeouts and the
connection check. (Replies shared by every engine are tested in ``test_llm_engines_shared.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest

from backend.adapters.llm import RetryPolicy
from backend.adapters.llm.json_schema import inline_schema
from backend.adapters.llm.openai_compat import OpenAiCompatibleClient, retry_after
from backend.adapters.llm.schemas import AnswerReply
from backend.domain.errors import ProviderUnavailable
from tests.helpers.llm_servers import FakeChat, chat_error, chat_handler, chat_reply, serve

KEY = "sk-test-0123456789abcdef"
ANSWER = {"answer": "Metformin 500 mg twice daily.", "cited_ids": ["n1"]}


@pytest.fixture
def chat() -> Iterator[tuple[FakeChat, str]]:
    fake = FakeChat()
    with serve(chat_handler(fake)) as url:
        yield fake, url
        fake.released.set()  # requests still held by a timeout test end now


def test_standard_form_sends_bearer_key_and_json_schema(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply(json.dumps(ANSWER)), {}))
    client = OpenAiCompatibleClient(f"{url}/v1/", "gpt-4o-mini", api_key=KEY)
    assert client.generate_json("answer", "Which medicine?", AnswerReply, system="Be brief.") == AnswerReply(**ANSWER)
    path, headers, body = fake.requests[0]
    assert path == "/v1/chat/completions" and headers["authorization"] == f"Bearer {KEY}" and "api-key" not in headers
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    assert body["messages"][0]["role"] == "system" and body["messages"][0]["content"].startswith("Be brief.")
    assert body["messages"][1] == {"role": "user", "content": "Which medicine?"}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "AnswerReply", "schema": inline_schema(AnswerReply), "strict": False},
    }
    assert client.name == "openai:gpt-4o-mini" and KEY not in repr(client)


def test_azure_form_uses_the_deployment_url_and_api_key_header(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply(json.dumps(ANSWER)), {}))
    client = OpenAiCompatibleClient(url, "clinic-gpt4o", api_key=KEY, api_version="2024-10-21")
    client.generate_json("answer", "q", AnswerReply)
    path, headers, _ = fake.requests[0]
    assert path == "/openai/deployments/clinic-gpt4o/chat/completions?api-version=2024-10-21"
    assert headers["api-key"] == KEY and "authorization" not in headers
    assert client.name == "azure-openai:clinic-gpt4o"


def test_a_local_server_needs_no_key(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply(json.dumps(ANSWER)), {}))
    OpenAiCompatibleClient(f"{url}/v1", "llama3.1:8b").generate_json("answer", "q", AnswerReply)
    assert "authorization" not in fake.requests[0][1] and "api-key" not in fake.requests[0][1]


def test_server_without_structured_output_gets_json_in_text_and_is_remembered(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.schema_supported = False
    fake.replies += [(200, chat_reply(json.dumps(ANSWER)), {})] * 2
    client = OpenAiCompatibleClient(f"{url}/v1", "llama3.1:8b", retry=RetryPolicy(attempts=1))
    assert client.generate_json("answer", "q", AnswerReply).cited_ids == ["n1"]
    assert client.generate_json("answer", "q", AnswerReply).cited_ids == ["n1"]
    bodies = fake.bodies()
    assert ["response_format" in b for b in bodies] == [True, False, False]  # asked once, then remembered
    assert '"cited_ids"' in bodies[1]["messages"][0]["content"]  # the schema travels in the system prompt


def test_json_mode_schema_does_not_fall_back_and_says_what_to_set(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.schema_supported = False
    client = OpenAiCompatibleClient(f"{url}/v1", "llama3.1:8b", json_mode="schema")
    with pytest.raises(ProviderUnavailable, match="COPILOT_OPENAI_JSON_MODE=text"):
        client.generate_json("answer", "q", AnswerReply)
    assert len(fake.requests) == 1


def test_json_mode_text_never_sends_response_format(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply("```json\n" + json.dumps(ANSWER) + "\n```"), {}))
    client = OpenAiCompatibleClient(f"{url}/v1", "llama3.1:8b", json_mode="text")
    assert client.generate_json("answer", "q", AnswerReply).answer == ANSWER["answer"]
    assert "response_format" not in fake.bodies()[0]


def test_rejected_key_is_not_retried_and_not_echoed(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((401, chat_error(f"Incorrect API key provided: {KEY}", "invalid_request_error"), {}))
    sleeps: list[float] = []
    client = OpenAiCompatibleClient(f"{url}/v1", "gpt-4o-mini", api_key=KEY, sleep=sleeps.append)
    with pytest.raises(ProviderUnavailable) as caught:
        client.generate_json("answer", "q", AnswerReply)
    assert "COPILOT_OPENAI_API_KEY" in caught.value.message and KEY not in caught.value.message
    assert sleeps == [] and len(fake.requests) == 1


def test_unknown_model_names_the_settings(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((404, chat_error("model 'llama9' not found", "not_found_error"), {}))
    with pytest.raises(ProviderUnavailable, match="COPILOT_OPENAI_MODEL"):
        OpenAiCompatibleClient(f"{url}/v1", "llama9").generate_json("answer", "q", AnswerReply)


def test_refusal_is_refused(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply(None, refusal="I can't help with that."), {}))
    with pytest.raises(ProviderUnavailable, match="refused"):
        OpenAiCompatibleClient(f"{url}/v1", "gpt-4o-mini").generate_json("answer", "q", AnswerReply)


def test_timeout_becomes_provider_unavailable(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.delay_s = 30.0  # far beyond the 0.3 s timeout: only the client's own timeout can end the call
    fake.forever = (200, chat_reply(json.dumps(ANSWER)), {})
    sleeps: list[float] = []
    client = OpenAiCompatibleClient(
        f"{url}/v1", "llama3.1:8b", timeout_s=0.3, retry=RetryPolicy(attempts=2), sleep=sleeps.append
    )
    with pytest.raises(ProviderUnavailable, match="timed out"):
        client.generate_json("answer", "q", AnswerReply)
    assert len(sleeps) == 1


def test_connection_check(chat: tuple[FakeChat, str]) -> None:
    fake, url = chat
    fake.replies.append((200, chat_reply("OK"), {}))
    assert "answered" in OpenAiCompatibleClient(f"{url}/v1", "llama3.1:8b").check()
    assert fake.bodies()[0]["messages"] == [{"role": "user", "content": "Reply with the word OK."}]


def test_missing_configuration_is_explained() -> None:
    with pytest.raises(ProviderUnavailable, match="COPILOT_OPENAI_BASE_URL"):
        OpenAiCompatibleClient("", "llama3.1:8b")
    with pytest.raises(ProviderUnavailable, match="COPILOT_OPENAI_MODEL"):
        OpenAiCompatibleClient("http://127.0.0.1:1/v1", "")


def test_retry_after_forms() -> None:
    assert retry_after(httpx2.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after(httpx2.Headers({"retry-after-ms": "1500", "Retry-After": "7"})) == 1.5
    assert retry_after(httpx2.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}), now=1445412480.0) == 10.0
    assert retry_after(httpx2.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx2.Headers({})) is None
