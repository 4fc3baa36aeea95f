"""The first administrator: only with the one-time setup token (page) or from the command line; both audited."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.__main__ import main
from backend.adapters.records.sqlite import open_sqlite_store
from backend.config import Settings
from backend.domain.errors import AuthenticationFailed, CopilotError, ValidationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import first_admin
from tests.conftest import ROOT
from tests.helpers.apptest import app_env
from tests.helpers.passwords import use_cheap_hashes


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests check who may create an account, not argon2's cost.
    use_cheap_hashes(monkeypatch)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with app_env(tmp_path, {"COPILOT_DEMO": "0"}):
        yield tmp_path


def _stores(data_dir: Path) -> RecordStore:
    return open_sqlite_store(Settings(data_dir=data_dir).db_path)


def _texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_page_asks_for_the_setup_token_before_it_offers_the_admin_form(
    data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "users add NAME --role admin" in _texts(at)
    assert [t.key for t in at.text_input] == ["setup_token"]  # no username/password form without the token
    token_file = data_dir / first_admin.SETUP_FILE
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600  # only the server's own user can read it
    token = token_file.read_text(encoding="utf-8").strip()
    assert len(token) >= 32
    assert f"Setup token for the first administrator: {token}" in capfd.readouterr().err  # the server's console

    at.text_input(key="setup_token").set_value("a guess")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [first_admin.WRONG_SETUP]
    assert [t.key for t in at.text_input] == ["setup_token"]

    at.text_input(key="setup_token").set_value(token)
    at.button[0].click().run()
    assert {t.key for t in at.text_input} == {"setup_username", "setup_password", "setup_repeat"}
    at.text_input(key="setup_username").set_value("Root")
    at.text_input(key="setup_password").set_value("a long admin password")
    at.text_input(key="setup_repeat").set_value("a long admin password")
    at.button[0].click().run()
    assert not at.exception
    assert any("Administrator root created" in i.value for i in at.info)
    assert at.text_input(key="login_username") is not None  # now the ordinary sign-in page

    stores = _stores(data_dir)
    assert [(u.username, u.role) for u in stores.users.list_all()] == [("root", Role.ADMIN)]
    event = stores.audit.query(actor="root").items[0]
    assert (event.action, event.role) == ("user.create.first_admin", "admin")
    assert not token_file.exists()  # used up
    assert not list(data_dir.glob(".setup-token*"))


def test_token_survives_a_rejected_password_and_works_once(data_dir: Path) -> None:
    stores = _stores(data_dir)
    issued = first_admin.issue_setup_token(stores, data_dir)
    assert issued is not None and issued[1] is True
    token = issued[0]
    assert first_admin.issue_setup_token(stores, data_dir) == (token, False)  # the same token until it is used
    with pytest.raises(ValidationFailed, match="too short"):
        first_admin.create_first_admin(stores, data_dir, token, "root", "short")
    with pytest.raises(AuthenticationFailed):
        first_admin.create_first_admin(stores, data_dir, token[:-1], "root", "a long admin password")
    assert stores.users.list_all() == []

    results: list[str] = []
    barrier = threading.Barrier(2, timeout=30)

    def claim(name: str) -> None:
        barrier.wait()
        try:
            first_admin.create_first_admin(stores, data_dir, token, name, "a long admin password")
            results.append("created")
        except CopilotError as e:
            results.append(e.message)

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("alpha", "bravo")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2 and results.count("created") == 1  # one token, one administrator
    assert len(stores.users.list_all()) == 1
    with pytest.raises(ValidationFailed, match="Accounts exist already"):
        first_admin.create_first_admin(stores, data_dir, token, "charlie", "a long admin password")


def test_command_line_admin_is_audited_and_retires_the_token(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stores = _stores(data_dir)
    assert first_admin.issue_setup_token(stores, data_dir) is not None
    monkeypatch.setenv("COPILOT_NEW_PASSWORD", "a long admin password")
    assert main(["users", "add", "root", "--role", "admin"]) == 0
    assert "created root (admin)" in capsys.readouterr().out
    event = stores.audit.query(actor="(command line)").items[0]
    assert (event.action, event.detail.split(" (os user")[0]) == ("user.create", "root (admin)")
    assert first_admin.issue_setup_token(stores, data_dir) is None
    assert not (data_dir / first_admin.SETUP_FILE).exists()
