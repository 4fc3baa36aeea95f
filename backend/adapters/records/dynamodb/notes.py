"""Clinical notes (``PatientNotes``) and medication history (``PatientHistory``), keyed patient_id + timestamp (ms).

``timestamp`` is a DynamoDB reserved word: every expression names it through
``ExpressionAttributeNames`` (``#ts``). Inserts are conditional
(``attribute_not_exists``): a colliding timestamp is bumped by 1 ms, never overwritten.
Versioned updates are conditional on ``version`` and on the stored ``status`` not being ``signed``: the
table itself refuses to change a signed note, whatever the caller checked before.

``changed_since`` uses the GSI ``changed-index``: each note carries
``change_shard`` (one of ``CHANGE_SHARDS`` buckets, from the patient id) and
``updated_at``; the query reads ``updated_at >= since`` from every shard, newest
first, and merges — bounded reads, no Scan, writes spread over the shards.
``drafts`` uses the sparse GSI ``drafts-index`` the same way: ``draft_shard`` is written only while a note
is a draft, so signing a note (a versioned put without it) takes it out of that index.
The table has a stream (NEW_AND_OLD_IMAGES) for consumers outside the app.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import error_code, map_error
from backend.adapters.records.dynamodb.base import SERVICE, Table, av, from_item, plain, to_item
from backend.adapters.records.dynamodb.tables import HISTORY, NOTES
from backend.domain.errors import ConcurrentUpdate, NotFound, SignedNoteImmutable
from backend.domain.legacy_rows import note_from_row
from backend.domain.models import HistoryEntry, Note, NoteStatus, Page, now_ms

R = TypeVar("R", Note, HistoryEntry)
CHANGE_SHARDS = 4
_MAX_BUMPS = 1000
_KEYS = ("patient_id", "timestamp")
_TS = {"#ts": "timestamp"}


def change_shard(patient_id: str) -> str:
    """Stable shard of a patient's notes in ``changed-index`` (not Python's salted ``hash``)."""
    return str(int(hashlib.sha256(patient_id.encode()).hexdigest()[:8], 16) % CHANGE_SHARDS)


class _Timeline(Generic[R]):
    table: str
    model: type[R]
    label: str

    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + self.table)

    def _extra(self, record: R) -> dict[str, Any]:
        return {}

    def _read(self, item: dict[str, Any]) -> R:
        return from_item(self.model, item)

    def _key(self, patient_id: str, timestamp: int) -> dict[str, Any]:
        return {"patient_id": av(patient_id), "timestamp": av(timestamp)}

    def add(self, record: R) -> R:
        for bump in range(_MAX_BUMPS):
            candidate = record.model_copy(update={"timestamp": record.timestamp + bump})
            # Conditional on the sort key too: ``timestamp`` must be aliased (reserved word).
            if self._t.put_new(to_item(candidate, **self._extra(candidate)), "timestamp"):
                return candidate
        raise ConcurrentUpdate(f"Could not find a free timestamp for this {self.label}; try again.")

    def get(self, patient_id: str, timestamp: int) -> R:
        item = self._t.get(self._key(patient_id, timestamp))
        if item is None:
            raise NotFound(f"No {self.label} {timestamp} for patient {patient_id}.")
        return self._read(item)

    def list_for_patient(self, patient_id: str, cursor: str | None = None, limit: int = 50) -> Page[R]:
        items, nxt = self._t.query_page(
            _KEYS,
            limit,
            cursor,
            KeyConditionExpression="patient_id = :p",
            ExpressionAttributeValues={":p": av(patient_id)},
            ScanIndexForward=False,
        )
        return Page[R](items=[self._read(i) for i in items], next_cursor=nxt)


class DynamoNoteStore(_Timeline[Note]):
    table = NOTES
    model = Note
    label = "note"

    def _read(self, item: dict[str, Any]) -> Note:
        # Items written by the previous version (a ``fields`` map) are upgraded as they are read.
        return note_from_row(plain(item))

    def _extra(self, record: Note) -> dict[str, Any]:
        shard = change_shard(record.patient_id)
        return {"change_shard": shard, **({"draft_shard": shard} if record.status is NoteStatus.DRAFT else {})}

    def update(self, note: Note, expected_version: int) -> Note:
        """Replace a draft at ``expected_version`` (one conditional PutItem).

        Raises:
            SignedNoteImmutable: the stored note is signed.
            NotFound: no such note.
            ConcurrentUpdate: the stored version is not ``expected_version``.
        """
        stored = note.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        key = self._key(note.patient_id, note.timestamp)
        try:
            self._t.client.put_item(
                TableName=self._t.name,
                Item=to_item(stored, **self._extra(stored)),
                ConditionExpression="attribute_exists(#ts) AND #v = :expected AND #st <> :signed",
                ExpressionAttributeNames={**_TS, "#v": "version", "#st": "status"},
                ExpressionAttributeValues={
                    ":expected": av(expected_version),
                    ":signed": av(NoteStatus.SIGNED.value),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise map_error(e, SERVICE, f"table {self._t.name}") from e
            old = e.response.get("Item") or self._t.get(key)
            if not old:
                raise NotFound(f"No note {note.timestamp} for patient {note.patient_id}.") from e
            if plain(old).get("status") == NoteStatus.SIGNED.value:
                raise SignedNoteImmutable() from e
            raise ConcurrentUpdate() from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"table {self._t.name}") from e
        return stored

    def bulk_load(self, notes: list[Note]) -> int:
        """BatchWriteItem many notes at once (seeding and benchmarks on fresh tables only).

        Unlike :meth:`add` this is unconditional: a note with an existing key replaces it.
        """
        self._t.batch_write([{"PutRequest": {"Item": to_item(n, **self._extra(n))}} for n in notes])
        return len(notes)

    def changed_since(self, since: int, limit: int = 100) -> list[Note]:
        return self._newest_per_shard(
            "changed-index", "change_shard = :s AND updated_at >= :since", {":since": av(since)}, limit
        )

    def drafts(self, limit: int = 200) -> list[Note]:
        return self._newest_per_shard("drafts-index", "draft_shard = :s", {}, limit)

    def _newest_per_shard(self, index: str, condition: str, values: dict[str, Any], limit: int) -> list[Note]:
        """Query ``index`` in every shard, newest ``updated_at`` first, and merge the first ``limit``."""
        streams = []
        for shard in range(CHANGE_SHARDS):
            items = self._t.query_all(
                max_items=limit,
                IndexName=index,
                KeyConditionExpression=condition,
                ExpressionAttributeValues={":s": av(str(shard)), **values},
                ScanIndexForward=False,
                Limit=limit,
            )
            streams.append([self._read(i) for i in items])
        merged = heapq.merge(*streams, key=lambda n: n.updated_at, reverse=True)
        return [n for _, n in zip(range(limit), merged, strict=False)]


class DynamoHistoryStore(_Timeline[HistoryEntry]):
    table = HISTORY
    model = HistoryEntry
    label = "history entry"
