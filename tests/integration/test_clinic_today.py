"""The digitize service's "today" (a document dated in the future, a patient's age) is the clinic's calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from backend import bootstrap
from tests.helpers.recordings import local_app

# 20:00 UTC on 8 March is 01:30 on the 9th in Kolkata: the UTC day and the clinic's day differ.
LATE_UTC = int(datetime(2026, 3, 8, 20, 0, tzinfo=UTC).timestamp() * 1000)


def test_the_digitize_deps_today_is_the_clinics_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_TIMEZONE", "Asia/Kolkata")
    app = local_app(tmp_path, monkeypatch)
    monkeypatch.setattr(bootstrap, "now_ms", lambda: LATE_UTC)
    assert app.digitize_deps().today() == date(2026, 3, 9)
