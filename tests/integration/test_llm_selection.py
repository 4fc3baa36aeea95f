"""COPILOT_LLM picks the engine; ``auto`` follows the documented order; the providers page says what is live.

The OpenAI-compatible engine is exercised end to end through ``build_app`` against a local chat-completions
server: the drafter, the Ask answerer, the extractor and the explanation rewrites all use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.providers import provider_statuses
from tests.helpers.llm_servers import FakeChat, chat_handler, chat_reply, serve
from tests.integration.llm_harness import DRAFT, SEGMENTS

ADMIN = Principal("admin", Role.ADMIN)
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE")  # fmt: skip


@pytest.fixture
def no_cloud_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*AWS_VARS, "COPILOT_LLM", "COPILOT_GEMINI_API_KEY", "COPILOT_OPENAI_BASE_URL",
                 "COPILOT_BEDROCK_MODEL_ID"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COPILOT_SECRETS_FILE", "/nonexistent/secrets.toml")
    return monkeypatch


def test_auto_follows_the_documented_order(no_cloud_env: pytest.MonkeyPatch) -> None:
    assert Settings().resolved("llm") == "offline"
    assert Settings(openai_base_url="http://127.0.0.1:11434/v1").resolved("llm") == "openai"
    assert Settings(bedrock_model_id="global.anthropic.claude-haiku-4-5-20251001-v1:0").resolved("llm") == "offline"
    no_cloud_env.setenv("AWS_PROFILE", "clinic")  # Bedrock needs AWS credentials as well as a model id
    both = Settings(bedrock_model_id="global.anthropic.claude-haiku-4-5-20251001-v1:0", openai_base_url="http://x/v1")
    assert both.resolved("llm") == "bedrock"
    assert Settings(gemini_api_key="k", bedrock_model_id="m", openai_base_url="http://x/v1").resolved("llm") == "gemini"  # type: ignore[arg-type]
    assert Settings(llm="openai", gemini_api_key="k").resolved("llm") == "openai"  # type: ignore[arg-type]
    assert Settings(llm="rules").resolved("llm") == "offline"  # the old name still works
    no_cloud_env.setenv("COPILOT_LLM", "bedrock")
    assert Settings().resolved("llm") == "bedrock"


@pytest.fixture
def chat() -> Iterator[tuple[FakeChat, str]]:
    fake = FakeChat()
    with serve(chat_handler(fake)) as url:
        yield fake, url


def test_openai_engine_serves_the_app_and_the_page_says_so(
    tmp_path: Path, chat: tuple[FakeChat, str], no_cloud_env: pytest.MonkeyPatch
) -> None:
    fake, url = chat
    settings = Settings(data_dir=tmp_path, openai_base_url=f"{url}/v1", openai_model="llama3.1:8b", llm_max_attempts=1)
    app = build_app(settings)
    assert app.providers["llm"] == "openai"
    fake.replies += [
        (200, chat_reply(json.dumps(DRAFT)), {}),
        (200, chat_reply(json.dumps({"answer": "Metformin 500 mg.", "cited_ids": ["n1"]})), {}),
        (200, chat_reply("OK"), {}),
    ]
    content = app.drafter()(SEGMENTS)
    assert content.provenance.engine == "openai:llama3.1:8b" and [m.name for m in content.medications] == ["metformin"]
    assert app.answerer() is not None and app.answerer().client is app.llm()  # one client per process
    row = {r.port: r for r in provider_statuses(ADMIN, app.registry, app.providers)}["llm"]
    assert (row.configured, row.engine, row.cloud, row.live) == ("openai", "openai:llama3.1:8b", True, True)
    assert app.registry.test_connection("llm")[0] is True
    assert len(fake.requests) == 2  # the answerer was built, not called


def test_chosen_engine_without_configuration_falls_back_with_the_reason(
    tmp_path: Path, no_cloud_env: pytest.MonkeyPatch
) -> None:
    app = build_app(Settings(data_dir=tmp_path, llm="openai"))
    content = app.drafter()(SEGMENTS)
    assert content.provenance.engine == "rules" and "COPILOT_OPENAI_BASE_URL" in (
        content.provenance.engine_fallback or ""
    )
    assert "metformin" in " ".join(content.sections.values()).lower()  # the offline drafter wrote the note
    assert app.answerer() is None
    ok, message = app.registry.test_connection("llm")
    assert not ok and "COPILOT_OPENAI_BASE_URL" in message
    row = {r.port: r for r in app.registry.status(app.providers)}["llm"]
    assert not row.live and "COPILOT_OPENAI_BASE_URL" in (row.last_error or "")


def test_offline_engine_is_live_and_needs_no_connection(tmp_path: Path, no_cloud_env: pytest.MonkeyPatch) -> None:
    app = build_app(Settings(data_dir=tmp_path, llm="offline"))
    content = app.drafter()(SEGMENTS)
    assert "metformin" in content.sections["plan"].lower() and content.provenance.engine_fallback is None
    assert app.answerer() is None
    row = {r.port: r for r in app.registry.status(app.providers)}["llm"]
    assert (row.configured, row.engine, row.cloud, row.live) == ("offline", "rules", False, True)
    assert app.registry.test_connection("llm") == (True, "rules runs on this machine; no connection needed.")
