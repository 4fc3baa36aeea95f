"""Changes of the record store as a feed: what changed (a note, a job, a patient's health data), in order.

The store writes one :class:`Change` per change, in the transaction that makes it (SQLite), or a stream
consumer turns the table streams into the same changes (DynamoDB). Readers follow the feed by its ``id``,
which only grows, so "everything after id N" is a resumable position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChangeKind(StrEnum):
    NOTE = "note"  # ref: the note's timestamp; state: draft | signed
    JOB = "job"  # ref: the job id; state: its status
    METRICS = "metrics"  # ref: the first day written; state: "imported"
    AUDIT = "audit"  # ref: the action (e.g. "note.sign"); state: the actor; patient_id may be ""


@dataclass(frozen=True)
class Change:
    """One change; ``id`` is 0 until the feed stores it (then it is the feed's position)."""

    kind: ChangeKind
    patient_id: str
    ref: str
    state: str
    at: int
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0

    def key(self) -> tuple[str, str, str, str, int]:
        """What makes two changes the same (a stream can deliver a record twice; its time comes with it)."""
        return (self.kind.value, self.patient_id, self.ref, self.state, self.at)
