"""Rows of a medication table as the clinician reads them: empty fields are blank cells, never "None"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from backend.domain.models import Medication


def medication_rows(meds: Iterable[Medication], columns: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per medication with ``columns`` as keys; a missing text field is "" (flags stay booleans)."""
    return [{c: ("" if (v := getattr(m, c)) is None else v) for c in columns} for m in meds]
