"""``python -m backend bench <kind>``: speed figures (never part of the test suite)."""

from __future__ import annotations

from typing import Any

from backend import bench
from backend.cli._figures import register_kinds


def register(sub: Any) -> None:
    register_kinds(sub, "bench", "measure speed against the targets", bench)
