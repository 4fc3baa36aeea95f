"""docs/API.md stays true: its curl walk-through runs, as written, against a live `python -m backend api`
(uvicorn on a free port, the in-process worker, real PyAV and whisper), and does what the page says."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import NoteStatus, Role
from backend.services import api_tokens
from backend.services.auth import add_user
from tests.conftest import ROOT
from tests.helpers.speech import synth_samples, wav_bytes, whisper_model_dir
from tests.helpers.waits import wait_until

__all__ = ["whisper_model_dir"]
GUIDE = ROOT / "docs" / "API.md"
SPEECH = "I have had a fever and a cough for three days. I take metformin 500 milligrams twice daily."
START_BOUND_S = 120.0  # bounds, not budgets: the server imports in seconds, the walk-through runs in a minute
RUN_BOUND_S = 900.0


def walkthrough() -> str:
    """The page's shell blocks after its walk-through heading, in order, as one script."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Walk-through", 1)[1]
    return "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.S))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, whisper_model_dir: Path) -> Iterator[tuple[str, dict[str, str], Settings]]:
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_LLM": "offline",
        "COPILOT_WHISPER_MODEL": str(whisper_model_dir),
    }
    settings = Settings(data_dir=tmp_path / "data", store="sqlite", blobs="local", queue="sqlite")
    stores = build_app(settings).stores
    tokens = {}
    for name, role in (("nurse", Role.NURSE), ("doctor", Role.DOCTOR)):
        add_user(stores, name, f"{name}-password", role)
        tokens[f"{name.upper()}_TOKEN"] = api_tokens.create_token(stores, None, name, days=1).token
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "api", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, "the API exited"
        try:
            return httpx2.get(f"{base}/v1/health", timeout=2).status_code == 200
        except httpx2.TransportError:
            return False

    try:
        wait_until(healthy, START_BOUND_S, "the API to listen")
        yield base, tokens, settings
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_guides_walkthrough_runs_against_a_live_server(
    server: tuple[str, dict[str, str], Settings], tmp_path: Path
) -> None:
    base, tokens, settings = server
    work = tmp_path / "client"
    work.mkdir()
    (work / "visit.wav").write_bytes(wav_bytes(synth_samples(SPEECH)))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        cwd=work,
        env={"PATH": os.environ["PATH"], "BASE": base, **tokens},
        capture_output=True,
        text=True,
        timeout=RUN_BOUND_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    pid = re.search(r"^patient (PAT_[0-9a-f]{8})$", out, flags=re.M)
    assert pid is not None, out
    assert re.search(r"^job ready_for_review, note /v1/patients/PAT_\w+/notes/\d+$", out, flags=re.M), out
    assert '"signer": "doctor"' in out and '"status": "signed"' in out
    assert "\n409\n" in out  # a signed note refused the edit
    assert re.search(r"^.*DocumentReference.*Patient.*$", out, flags=re.M), out
    assert '"code": "not_found"' in out
    medications = json.loads((work / "note.json").read_text())["medications"]
    assert "metformin" in [m["name"] for m in medications]

    stores = build_app(settings).stores
    (note,) = stores.notes.list_for_patient(pid.group(1)).items
    assert note.status is NoteStatus.SIGNED and note.sections["plan"] == "Paracetamol as needed; review in 3 days."
    assert stores.patients.count() == 1
