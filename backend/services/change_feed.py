"""Live events from the record store's change feed: new drafts, signed notes, finished or failed jobs, and anomaly
episodes in newly imported health data, each shown only to roles that may read what it points to.

A client follows the feed by event id (the change's id): :func:`events_after` returns the events after a
position and the position reached, which moves past changes the caller may not see, so a reader never rescans
them. Events carry references and short facts, never note text: the client reads the record itself (and that
read is audited by its own service).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.domain.changes import Change, ChangeKind
from backend.domain.errors import ValidationFailed
from backend.domain.models import JobStatus, NoteStatus
from backend.ports import ChangeFeed
from backend.services.access import Permission, Principal, require

EpisodesFor = Callable[[str], list[Mapping[str, Any]]]
BATCH = 200

# The permission each event needs: the one that reads the record it points to (rules as data).
EVENT_PERMISSIONS: dict[str, Permission] = {
    "note.drafted": Permission.READ_PATIENTS,
    "note.signed": Permission.READ_PATIENTS,
    "job.ready": Permission.READ_PATIENTS,
    "job.failed": Permission.READ_PATIENTS,
    "anomaly.episode": Permission.READ_PATIENTS,
    "activity": Permission.READ_AUDIT,  # the dashboard's "recent activity": who did what, to whose record
}
# Audit lines the dashboard's activity list leaves out too: its own reads and the per-patient "shown" lines.
_QUIET_ACTIONS = ("dashboard.", "notes.changed")
_SHOWN_SUFFIX = ".shown"


@dataclass(frozen=True)
class Event:
    """One live event; ``id`` is the position to resume after (the SSE ``Last-Event-ID``)."""

    id: int
    type: str
    patient_id: str
    data: dict[str, Any] = field(default_factory=dict)


def require_events(principal: Principal | None) -> Principal:
    """Raise PermissionDenied unless the role may read patients (as the dashboard needs; admins may not)."""
    return require(principal, Permission.READ_PATIENTS)


def start_position(feed: ChangeFeed | None, principal: Principal, last_event_id: str | None) -> int:
    """Where a stream starts: after ``last_event_id`` (a resumed stream), else after the newest change.

    Raises:
        PermissionDenied: the role may see no event.
        ValidationFailed: live events are off (no change feed), or the id is not a position.
    """
    require_events(principal)
    if feed is None:
        raise ValidationFailed("Live events need a record store with a change feed (SQLite, or DynamoDB streams).")
    if last_event_id is None or not last_event_id.strip():
        return feed.last_id()
    value = last_event_id.strip()
    if not value.isdigit() or len(value) > 18:
        raise ValidationFailed("Last-Event-ID must be the id of an event this stream sent (a whole number).")
    return int(value)


def events_after(
    feed: ChangeFeed,
    principal: Principal,
    after_id: int,
    episodes_for: EpisodesFor | None = None,
    limit: int = BATCH,
) -> tuple[list[Event], int]:
    """The events the caller may see after ``after_id`` and the position reached (past hidden changes too)."""
    require_events(principal)
    changes = feed.read_after(after_id, limit)
    events: list[Event] = []
    for change in changes:
        for event in _events_of(change, episodes_for):
            if principal.can(EVENT_PERMISSIONS[event.type]):
                events.append(event)
    return events, (changes[-1].id if changes else after_id)


def _events_of(change: Change, episodes_for: EpisodesFor | None) -> list[Event]:
    base = {"patient_id": change.patient_id, "at": change.at}
    if change.kind is ChangeKind.NOTE:
        url = f"/v1/patients/{change.patient_id}/notes/{change.ref}"
        if change.state == NoteStatus.SIGNED.value:
            return [
                Event(change.id, "note.signed", change.patient_id, {**base, "timestamp": int(change.ref), "url": url})
            ]
        if change.state == NoteStatus.DRAFT.value and change.detail.get("new"):
            return [
                Event(change.id, "note.drafted", change.patient_id, {**base, "timestamp": int(change.ref), "url": url})
            ]
        return []
    if change.kind is ChangeKind.JOB:
        job = {**base, "job_id": change.ref, "status": change.state, "url": f"/v1/jobs/{change.ref}"}
        if change.state == JobStatus.READY.value:
            return [Event(change.id, "job.ready", change.patient_id, job)]
        if change.state == JobStatus.FAILED.value:
            return [Event(change.id, "job.failed", change.patient_id, {**job, "error": change.detail.get("error")})]
        return []
    if change.kind is ChangeKind.AUDIT:
        action = change.ref
        if action.startswith(_QUIET_ACTIONS) or action.endswith(_SHOWN_SUFFIX):
            return []
        activity = {**base, "actor": change.state, "role": change.detail.get("role"), "action": action}
        return [Event(change.id, "activity", change.patient_id, activity)]
    if change.kind is ChangeKind.METRICS and episodes_for is not None:
        # Episodes that reach into the newly written days are the new (or grown) ones.
        first = change.ref
        return [
            Event(change.id, "anomaly.episode", change.patient_id, {**base, **dict(e)})
            for e in episodes_for(change.patient_id)
            if str(e.get("end_day", "")) >= first
        ]
    return []
