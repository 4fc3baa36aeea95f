"""Audit lines for a list or search result: which patients a user was shown, never why they matched."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from backend.ports import AuditLog
from backend.services.access import Principal, record

SHOWN = ".shown"  # the suffix of the per-patient lines


def record_shown(
    audit: AuditLog, principal: Principal, action: str, patient_ids: Iterable[str], detail: str = ""
) -> None:
    """One summary line ``action`` and one ``<action>.shown`` line per patient returned, tied by a list id.

    A line per patient lets the trail answer "who saw this patient's name" by a patient query. Callers pass
    counts and lengths in ``detail``, never a search term or clinical text (admins read the trail).
    """
    shown = list(dict.fromkeys(patient_ids))
    list_id = f"list={secrets.token_hex(4)}"
    record(audit, principal, action, detail=" ".join(x for x in (list_id, f"patients={len(shown)}", detail) if x))
    for patient_id in shown:
        record(audit, principal, f"{action}{SHOWN}", patient_id, list_id)
