"""`make run` listens on this machine only unless told otherwise; the image never seeds demo accounts.

The run target's own command is taken from `make -n run` (printed, not executed) with the interpreter replaced
by `echo`, then run by the shell, so the address Streamlit would get is the one the Makefile really computes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT


def _streamlit_args(env_extra: dict[str, str]) -> list[str]:
    printed = subprocess.run(
        ["make", "-s", "-n", "run", "PY=echo"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    command = next(c for c in printed.replace("\\\n", " ").splitlines() if "-m streamlit run" in c)
    env = {k: v for k, v in os.environ.items() if k not in ("COPILOT_ADDRESS", "COPILOT_DEMO")} | env_extra
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return out.stdout.split()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_binds_to_loopback_unless_an_address_is_configured() -> None:
    args = _streamlit_args({})
    assert args[args.index("--server.address") + 1] == "127.0.0.1"
    args = _streamlit_args({"COPILOT_ADDRESS": "0.0.0.0"})  # a deliberate setting, documented in SECURITY.md
    assert args[args.index("--server.address") + 1] == "0.0.0.0"


def test_the_image_listens_in_its_container_without_demo_data() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ENV COPILOT_DEMO=0$", dockerfile, re.MULTILINE)
    assert "seed-demo" not in dockerfile
