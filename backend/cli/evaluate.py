"""``python -m backend eval <kind>``: quality figures on data read from a path."""

from __future__ import annotations

from typing import Any

from backend import evals
from backend.cli._figures import register_kinds


def register(sub: Any) -> None:
    register_kinds(sub, "eval", "score an engine on an evaluation set", evals)
