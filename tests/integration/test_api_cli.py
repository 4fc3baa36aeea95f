"""The command line: `tokens create|list|revoke` as the operator, and `python -m backend api` serving over a
real socket (uvicorn on a free port) with a token made by the command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from backend.__main__ import main
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.services.auth import add_user
from tests.conftest import ROOT

START_BOUND_S = 120.0  # a bound for the server to import and listen, not a budget


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    for key, value in {"COPILOT_STORE": "sqlite", "COPILOT_BLOBS": "local", "COPILOT_QUEUE": "sqlite"}.items():
        monkeypatch.setenv(key, value)
    add_user(build_app(Settings()).stores, "asha", "asha-password", Role.NURSE)
    return tmp_path


def test_tokens_create_list_revoke(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "create", "asha", "--json", "--days", "7", "--label", "tablet"]) == 0
    created = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert created["token"].startswith("cop_") and created["role"] == "nurse"
    assert main(["tokens", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["token_id"], t["label"]) for t in listed] == [(created["token_id"], "tablet")]
    assert "secret_hash" not in listed[0] and created["token"] not in json.dumps(listed)
    assert main(["tokens", "revoke", created["token_id"]]) == 0
    assert main(["tokens", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["tokens", "create", "nobody"]) == 2  # a message, not a trace
    assert "error:" in capsys.readouterr().err
    stores = build_app(Settings()).stores
    trail = [(e.actor, e.role, e.action) for e in stores.audit.query(limit=10).items]
    assert ("(command line)", "operator", "api_token.revoke") in trail


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_command_serves_over_http(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "create", "asha", "--json"]) == 0
    token = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["token"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "backend", "api", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, tick = time.monotonic() + START_BOUND_S, threading.Event()
        while True:
            try:
                if httpx2.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the API did not start listening"
            tick.wait(0.2)
        assert httpx2.get(f"{base}/v1/patients").status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        made = httpx2.post(f"{base}/v1/patients", json={"name": "Over Socket"}, headers=headers)
        assert made.status_code == 201, made.text
        found = httpx2.get(f"{base}/v1/patients", params={"q": "Socket"}, headers=headers).json()["items"]
        assert [p["patient_id"] for p in found] == [made.json()["patient_id"]]
        assert httpx2.get(f"{base}/openapi.json").json()["openapi"].startswith("3.")
    finally:
        server.terminate()
        server.wait(timeout=30)
