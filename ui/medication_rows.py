"""Rows of a medication table as the clinician reads them (empty fields are blank cells, never "None"), and the
medications an edited table stands for."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from backend.domain.models import Medication
from backend.domain.reconcile import ActiveMed


def medication_rows(meds: Iterable[Medication], columns: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per medication with ``columns`` as keys; a missing text field is "" (flags stay booleans)."""
    return [{c: ("" if (v := getattr(m, c)) is None else v) for c in columns} for m in meds]


def status_label(status: str | None, reason: str | None = None) -> str:
    """A medication's status as a cell reads it: a declined drug says why ("declined — prefers not to take a
    statin"), a stopped one too when the words said why ("stopped — tried, did not help: ..."), so a list of
    not-taken drugs is never read as drugs to take; no status is blank."""
    if status in ("declined", "stopped") and reason:
        return f"{status} — {reason}"
    return status or ""


def edited_medications(
    rows: Sequence[Mapping[str, Any]],
    original: Sequence[Medication],
    columns: Iterable[str],
    *,
    added_verbatim: bool = False,
) -> list[Medication]:
    """The medications of an edited table (the rule of every medication editor).

    Row ``i`` edits ``original[i]`` (rows past the end are added ones); only ``columns`` and the name are
    written back, every other field stays as the original had it. A row without a name is dropped; an empty
    cell (None, "" or only spaces) clears its field; text is kept without surrounding spaces. A changed name
    is no longer verified: the dictionary or a clinician vouched for the old one.

    Args:
        rows: the table as the editor returns it.
        original: the medications the table was made from, in the same order.
        columns: the editable fields besides ``name``.
        added_verbatim: an added row's name is also its ``verbatim`` (a document's editor: the nurse types
            what the page says).
    """
    editable = [c for c in columns if c != "name"]
    out = []
    for i, row in enumerate(rows):
        name = _cell(row.get("name"))
        if name is None:
            continue
        if i < len(original):
            base = original[i]
        else:
            base = Medication(name=name, verbatim=name) if added_verbatim else Medication(name=name)
        values = {c: _cell(row.get(c)) for c in editable}
        out.append(base.model_copy(update={**values, "name": name, "verified": base.verified and name == base.name}))
    return out


def _cell(value: Any) -> str | None:
    """A text cell as stored: None when empty (the editor gives None, "" or NaN for an empty cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def reconciled_rows(meds: Sequence[ActiveMed], *, status: bool = True) -> list[dict[str, Any]]:
    """The reconciled list as table rows; a dose or frequency nobody recorded is blank, not the word "None".

    A "conflict" column with no conflict in it is left out (it only pushed the table past a phone's width), and
    so is the status when the table's heading already says it (``status=False``: the active medications).
    """
    rows = [
        {
            "medication": m.name + ("" if m.verified else "  (unverified)"),
            "strength": m.strength or "",
            "frequency": m.frequency or "",
            "status": status_label(m.status, m.status_reason),
            "first seen": m.first_day,
            "last seen": m.last_day,
            "changes": "; ".join(m.changes),
            "conflict": m.conflict_detail if m.conflict else "",
            "sources": len(m.sources),
        }
        for m in meds
    ]
    dropped = {"status"} if not status else set()
    if not any(m.conflict for m in meds):
        dropped.add("conflict")
    return [{k: v for k, v in row.items() if k not in dropped} for row in rows]
