"""The admin's Engines tab says which LLM engine ``auto`` chose and whether it is live (AppTest, real page).

The app runs with ``COPILOT_OPENAI_BASE_URL`` pointing at a local chat-completions server and ``COPILOT_LLM``
left on ``auto``; the admin presses *Test* on the drafting row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.services import auth
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.helpers.apptest import app_env
from tests.helpers.llm_servers import FakeChat, chat_handler, chat_reply, serve


@pytest.fixture
def openai_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChat]:
    fake = FakeChat()
    with serve(chat_handler(fake)) as url:
        for name in ("COPILOT_LLM", "COPILOT_GEMINI_API_KEY", "COPILOT_BEDROCK_MODEL_ID"):
            monkeypatch.delenv(name, raising=False)
        env = {
            "COPILOT_SECRETS_FILE": str(tmp_path / "none.toml"),
            "COPILOT_OPENAI_BASE_URL": f"{url}/v1",
            "COPILOT_OPENAI_MODEL": "llama3.1:8b",
        }
        with app_env(tmp_path, env):
            yield fake


def test_engines_tab_names_the_auto_choice_and_tests_it(openai_app: FakeChat) -> None:
    openai_app.replies.append((200, chat_reply("OK"), {}))
    # Every run checks the session's account, so the admin must exist in this data directory.
    auth.add_user(build_app(Settings()).stores, "admin", "admin-password", Role.ADMIN)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = Principal("admin", Role.ADMIN)
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    rows = [m.value for m in at.markdown if "Note drafting" in m.value]
    assert rows == ["**Note drafting / extraction** · openai (cloud; chosen by auto) · :green[live]"]
    assert openai_app.requests == []  # nothing is sent until someone drafts or tests
    at.button(key="admin_test_llm").click().run()
    assert not at.exception
    assert [s.value.replace("\\", "") for s in at.success] == ["openai:llama3.1:8b reachable at " + openai_app_url(openai_app)
                                             + "; model llama3.1:8b answered."]  # fmt: skip
    rows = [m.value for m in at.markdown if "Note drafting" in m.value]
    assert rows == ["**Note drafting / extraction** · openai (cloud; chosen by auto) · :green[live]"]
    assert "Engine: openai:llama3.1:8b" in [c.value.replace("\\", "") for c in at.caption]
    assert openai_app.bodies()[0]["messages"] == [{"role": "user", "content": "Reply with the word OK."}]


def openai_app_url(fake: FakeChat) -> str:
    """The base URL the app was given (the server's host header tells the port)."""
    host = fake.requests[0][1]["host"]
    return f"http://{host}/v1"
