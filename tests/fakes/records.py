"""Honest in-memory implementations of the record ports (one class per store), for unit tests."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from backend.domain.audit_chain import GENESIS, ChainLink, event_fields, link_hash
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, SignedNoteImmutable
from backend.domain.leases import Lease
from backend.domain.models import AuditEvent, Job, JobStatus, MetricDay, Note, NoteStatus, Page, Patient, User, now_ms
from backend.domain.text import name_tokens
from backend.ports import RecordStore
from backend.services.memory_state import MemoryState


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset]).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(json.loads(base64.urlsafe_b64decode(cursor))[0]) if cursor else 0


def _page(items: list[Any], cursor: str | None, limit: int) -> Page[Any]:
    start = _offset(cursor)
    chunk = items[start : start + limit]
    return Page(items=chunk, next_cursor=_cursor(start + limit) if start + limit < len(items) else None)


class _Versioned:
    key_attr: str

    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}

    def _key(self, item: Any) -> Any:
        return getattr(item, self.key_attr)

    def add(self, item: Any) -> None:
        if self._key(item) in self.rows:
            raise AlreadyExists(f"{self._key(item)} exists")
        self.rows[self._key(item)] = item.model_copy(deep=True)

    def get(self, key: Any) -> Any:
        if key not in self.rows:
            raise NotFound(f"no {key}")
        return self.rows[key].model_copy(deep=True)

    def update(self, item: Any, expected_version: int) -> Any:
        key = self._key(item)
        if key not in self.rows:
            raise NotFound(f"no {key}")
        if self.rows[key].version != expected_version:
            raise ConcurrentUpdate()
        stored = item.model_copy(update={"version": expected_version + 1}, deep=True)
        if hasattr(stored, "updated_at"):
            stored.updated_at = now_ms()
        self.rows[key] = stored
        return stored.model_copy(deep=True)


class FakePatients(_Versioned):
    key_attr = "patient_id"

    def find_by_phone(self, phone: str) -> list[Patient]:
        return [p for p in self.rows.values() if p.phone == phone]

    def search_name(self, fragment: str, limit: int = 20) -> list[Patient]:
        words = name_tokens(fragment)
        if not words:
            return []
        hits = [p for p in self.rows.values() if all(any(t.startswith(w) for t in name_tokens(p.name)) for w in words)]
        return sorted(hits, key=lambda p: -p.created_at)[:limit]

    def list_page(self, cursor: str | None = None, limit: int = 25) -> Page[Patient]:
        ordered = sorted(self.rows.values(), key=lambda p: (-p.created_at, p.patient_id))
        return _page(ordered, cursor, limit)

    def count(self) -> int:
        return len(self.rows)


class FakeUsers(_Versioned):
    key_attr = "username"

    def list_all(self) -> list[User]:
        return sorted(self.rows.values(), key=lambda u: u.username)


class FakeAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.links: list[ChainLink] = []
        self._lock = threading.Lock()  # the real stores order concurrent writers; so must the fake

    def append(self, event: AuditEvent) -> None:
        with self._lock:
            self.events.append(event.model_copy())
            prev = self.links[-1].hash if self.links and self.links[-1].hash else GENESIS
            fields = event_fields(event)
            self.links.append(ChainLink(len(self.links) + 1, fields, prev, link_hash(prev, fields)))

    def chain(self) -> Iterator[ChainLink]:
        return iter(list(self.links))

    def chain_head(self) -> tuple[int, str] | None:
        return None

    def query(self, *, patient_id=None, actor=None, since=None, cursor=None, limit=50) -> Page[AuditEvent]:  # type: ignore[no-untyped-def]
        hits = [
            e
            for e in reversed(self.events)
            if (patient_id is None or e.patient_id == patient_id)
            and (actor is None or e.actor == actor)
            and (since is None or e.at >= since)
        ]
        return _page(hits, cursor, limit)


class _FakeTimeline:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Any] = {}

    def add(self, record: Any) -> Any:
        ts = record.timestamp
        while (record.patient_id, ts) in self.rows:
            ts += 1
        stored = record.model_copy(update={"timestamp": ts}, deep=True)
        self.rows[(record.patient_id, ts)] = stored
        return stored.model_copy(deep=True)

    def get(self, patient_id: str, timestamp: int) -> Any:
        if (patient_id, timestamp) not in self.rows:
            raise NotFound("no such record")
        return self.rows[(patient_id, timestamp)].model_copy(deep=True)

    def list_for_patient(self, patient_id: str, cursor: str | None = None, limit: int = 50) -> Page[Any]:
        ordered = sorted((r for (pid, _), r in self.rows.items() if pid == patient_id), key=lambda r: -r.timestamp)
        return _page(ordered, cursor, limit)


class FakeNotes(_FakeTimeline):
    def update(self, note: Note, expected_version: int) -> Note:
        key = (note.patient_id, note.timestamp)
        if key not in self.rows:
            raise NotFound("no such note")
        if self.rows[key].status is NoteStatus.SIGNED:
            raise SignedNoteImmutable()
        if self.rows[key].version != expected_version:
            raise ConcurrentUpdate()
        stored = note.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()}, deep=True)
        self.rows[key] = stored
        return stored.model_copy(deep=True)

    def changed_since(self, since: int, limit: int = 100) -> list[Note]:
        return sorted((n for n in self.rows.values() if n.updated_at >= since), key=lambda n: -n.updated_at)[:limit]

    def drafts(self, limit: int = 200) -> list[Note]:
        waiting = (n for n in self.rows.values() if n.status is NoteStatus.DRAFT)
        return [n.model_copy(deep=True) for n in sorted(waiting, key=lambda n: -n.updated_at)[:limit]]


class FakeHistory(_FakeTimeline):
    pass


class FakeMetrics:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], MetricDay] = {}

    def upsert_days(self, days: Iterable[MetricDay]) -> int:
        n = 0
        for d in days:
            self.rows[(d.patient_id, d.metric, d.day)] = d.model_copy()
            n += 1
        return n

    def days(
        self, patient_id: str, metric: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[MetricDay]:
        hits = [
            d
            for (pid, m, day), d in self.rows.items()
            if pid == patient_id
            and (metric is None or m == metric)
            and (start is None or day >= start)
            and (end is None or day <= end)
        ]
        return sorted(hits, key=lambda d: (d.day, d.metric))

    def patients_with_metrics(self) -> list[str]:
        return sorted({pid for pid, _, _ in self.rows})


class FakeJobs(_Versioned):
    key_attr = "job_id"

    def list_for_patient(self, patient_id: str, limit: int = 50) -> list[Job]:
        return sorted((j for j in self.rows.values() if j.patient_id == patient_id), key=lambda j: -j.updated_at)[
            :limit
        ]

    def list_by_status(self, status: JobStatus, limit: int = 100) -> list[Job]:
        return sorted((j for j in self.rows.values() if j.status == status), key=lambda j: j.updated_at)[:limit]

    def delete(self, job_id: str) -> None:
        self.rows.pop(job_id, None)


class FakeApiTokens(_Versioned):
    key_attr = "token_id"

    def add(self, item: Any) -> None:
        if any(t.secret_hash == item.secret_hash for t in self.rows.values()):
            raise AlreadyExists("digest exists")
        super().add(item)

    def find_by_hash(self, secret_hash: str) -> Any:
        for token in self.rows.values():
            if token.secret_hash == secret_hash:
                return token.model_copy(deep=True)
        raise NotFound("no such token")

    def list_tokens(self, username: str | None = None) -> list[Any]:
        found = [t for t in self.rows.values() if username is None or t.username == username]
        return sorted(found, key=lambda t: (t.created_at, t.token_id), reverse=True)


class FakeLeases:
    def __init__(self) -> None:
        self.rows: dict[str, Lease] = {}

    def acquire(self, name: str, owner: str, now_ms: int, ttl_ms: int) -> Lease | None:
        current = self.rows.get(name)
        if current is not None and not current.free_for(owner, now_ms):
            return None
        self.rows[name] = Lease(name, owner, now_ms + ttl_ms)
        return self.rows[name]

    def finish(self, name: str, owner: str, now_ms: int, detail: str = "") -> bool:
        current = self.rows.get(name)
        if current is None or current.owner != owner or current.done:
            return False
        self.rows[name] = Lease(name, owner, current.expires_at, now_ms, detail[:500])
        return True

    def release(self, name: str, owner: str) -> None:
        current = self.rows.get(name)
        if current is not None and current.owner == owner and not current.done:
            self.rows[name] = Lease(name, owner, 0)

    def get(self, name: str) -> Lease | None:
        return self.rows.get(name)


def fake_record_store() -> RecordStore:
    return RecordStore(
        patients=FakePatients(),  # type: ignore[arg-type]
        users=FakeUsers(),  # type: ignore[arg-type]
        audit=FakeAudit(),  # type: ignore[arg-type]
        notes=FakeNotes(),  # type: ignore[arg-type]
        history=FakeHistory(),  # type: ignore[arg-type]
        metrics=FakeMetrics(),  # type: ignore[arg-type]
        jobs=FakeJobs(),  # type: ignore[arg-type]
        api_tokens=FakeApiTokens(),  # type: ignore[arg-type]
        leases=FakeLeases(),
        state=MemoryState(),  # the in-process implementation is an honest fake of the shared one
    )
