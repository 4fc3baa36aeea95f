"""The session clock's test-only hook: off unless the environment names a file, and it only ever moves forward."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from backend.services.clock import CLOCK_FILE_ENV, clock_from_environ
from tests.fakes.clock import FakeClock


def test_without_the_variable_the_session_clock_is_the_real_clock_itself() -> None:
    base = FakeClock()
    assert clock_from_environ({}, base) is base
    assert clock_from_environ({CLOCK_FILE_ENV: "  "}, base) is base
    assert clock_from_environ({"COPILOT_SESSION_IDLE_MINUTES": "1"}, base) is base


def test_the_file_moves_time_forward_and_nothing_moves_it_back(tmp_path: Path) -> None:
    base, file = FakeClock(1000.0), tmp_path / "clock"
    clock = clock_from_environ({CLOCK_FILE_ENV: str(file)}, base)
    assert clock() == 1000.0  # no file yet: no offset
    file.write_text("62")
    assert clock() == 1062.0
    base.pass_seconds(5)
    assert clock() == 1067.0  # the real clock still runs beneath the offset
    # A smaller, negative, unreadable or infinite offset would let a session outlive its idle limit: the largest
    # offset seen stays.
    for value in ("10", "-3600", "soon", "inf", "nan", ""):
        file.write_text(value)
        assert clock() == 1067.0, value
    file.unlink()
    assert clock() == 1067.0
    file.write_text("100")
    assert clock() == 1105.0


def test_a_file_others_may_write_is_ignored(tmp_path: Path) -> None:
    file = tmp_path / "clock"
    file.write_text("3600")
    file.chmod(0o666)
    clock = clock_from_environ({CLOCK_FILE_ENV: str(file)}, FakeClock(0.0))
    assert clock() == 0.0
    file.chmod(0o600)
    assert clock() == 3600.0


def test_turning_the_hook_on_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="backend.services.clock"):
        clock_from_environ({CLOCK_FILE_ENV: str(tmp_path / "clock")}, FakeClock())
    assert CLOCK_FILE_ENV in caplog.text and "test clock" in caplog.text
