"""The one reader of stored rows written before notes and jobs were typed: old shapes in, today's models out.

Notes kept their structured content in a ``fields`` dict (and ``unsupported`` beside it); jobs kept theirs in a
``params`` dict. The record stores (SQLite and DynamoDB) read every note and job row through ``note_from_row``
and ``job_from_row``, so a database written by the previous version opens unchanged. Old values are read
leniently (a key missing or of an unexpected type is left at its default): a stored note must always open.

Drafts written before the "declined" status kept a drug the patient refuses, does not take or is to avoid as
"stopped" with the reason among its ``flags``; such a line reads as declined with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.domain.models import Job, Note

# Keys of the old ``fields`` dict and where each lives now.
_PROVENANCE_KEYS = ("engine", "engine_fallback", "low_accuracy_engine")
_NOTE_KEYS = ("style", "edited_by")
# The offline drafter's reasons for a drug not to take, stored as flags of a "stopped" line before "declined".
_DECLINED_REASONS = frozenset(
    ("the patient does not want it", "the clinician advised not to take it", "the patient is not taking it")
)


def note_from_row(row: Mapping[str, Any]) -> Note:
    """A stored note row (today's shape or the previous version's) as a ``Note``."""
    return Note.model_validate(upgrade_note_row(row))


def job_from_row(row: Mapping[str, Any]) -> Job:
    """A stored job row (today's shape or the previous version's) as a ``Job``."""
    return Job.model_validate(upgrade_job_row(row))


def upgrade_note_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row in today's shape: the old ``fields`` dict and ``unsupported`` list become typed attributes."""
    data = dict(row)
    if isinstance(data.get("medications"), list):
        data["medications"] = [_medication(m) for m in data["medications"]]
    if "fields" not in data and "unsupported" not in data:
        return data
    fields = data.pop("fields", None)
    fields = fields if isinstance(fields, dict) else {}
    unsupported = [*_list(data.pop("unsupported", None)), *_list(fields.get("unsupported"))]
    provenance = {k: str(fields[k]) for k in _PROVENANCE_KEYS if fields.get(k)}
    data.update(
        sentences=[s for s in _list(fields.get("sentences")) if isinstance(s, dict) and "text" in s],
        chief_complaint=_cited(fields.get("chief_complaint")),
        symptoms=[s for s in _list(fields.get("symptoms")) if isinstance(s, dict) and "name" in s],
        vitals=[_vital(v) for v in _list(fields.get("vitals")) if isinstance(v, dict) and "kind" in v],
        diagnoses=[d for d in (_diagnosis(x) for x in _list(fields.get("diagnoses"))) if d],
        allergies=[a for a in (_cited(x) for x in _list(fields.get("allergies"))) if a],
        # The LLM drafter stored its follow-up as a list of sentences; they are in ``sentences`` too.
        follow_up=_cited(fields.get("follow_up")) if isinstance(fields.get("follow_up"), dict) else None,
        speakers={
            "patient_pronoun": fields.get("patient_pronouns") or None,
            "roles_set_by": fields.get("roles_set_by") or None,
        },
        provenance={
            **provenance,
            "audio_warnings": [str(w) for w in _list(fields.get("audio_warnings"))],
            "unsupported": [str(u) for u in dict.fromkeys(unsupported)],
            "recovered_names": [r for r in _list(fields.get("recovered_names")) if isinstance(r, dict)],
        },
        **{k: str(fields[k]) for k in _NOTE_KEYS if fields.get(k)},
    )
    return data


def upgrade_job_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row in today's shape: the old ``params`` dict becomes typed attributes."""
    data = dict(row)
    params = data.pop("params", None)
    if isinstance(params, dict):
        data.update({k: v for k, v in params.items() if k in Job.model_fields and v is not None and k not in data})
    return data


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _cited(value: Any) -> dict[str, Any] | None:
    """``{"text", "segment_ids"}`` of an old item (a dict, or a bare string in hand-made rows), or None."""
    if isinstance(value, str) and value.strip():
        return {"text": value.strip(), "segment_ids": []}
    if isinstance(value, dict) and str(value.get("text") or "").strip():
        return {"text": str(value["text"]), "segment_ids": _list(value.get("segment_ids"))}
    return None


def _medication(value: Any) -> Any:
    """An old "stopped" line whose flag says it was never to be taken, as declined with that reason."""
    if not isinstance(value, dict) or value.get("status") != "stopped" or value.get("status_reason"):
        return value
    flags = _list(value.get("flags"))
    reasons = [f for f in flags if f in _DECLINED_REASONS]
    if not reasons:
        return value
    kept = [f for f in flags if f not in _DECLINED_REASONS]
    return {**value, "status": "declined", "status_reason": reasons[-1], "flags": kept}


def _vital(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "value": str(value.get("value", "")), "unit": str(value.get("unit") or "")}


def _diagnosis(value: Any) -> dict[str, Any] | None:
    """An old diagnosis: the offline drafter's ``{"text", "certainty", ...}`` or the LLM's ``{"name", ...}``."""
    if isinstance(value, str):
        return {"text": value} if value.strip() else None
    if not isinstance(value, dict):
        return None
    text = str(value.get("text") or value.get("name") or "").strip()
    if not text:
        return None
    certainty = "possible" if value.get("certainty") == "possible" else "stated"
    return {
        "text": text,
        "certainty": certainty,
        "unverified": bool(value.get("unverified", False)),
        "segment_ids": _list(value.get("segment_ids")),
    }
