"""Tamper evidence for the audit trail: each row's hash chains it to the row before.

``hash = SHA-256(previous hash + "\\n" + canonical JSON of the row's fields)``; the first chained row links
to ``GENESIS``. The fields are those stored (not re-read through the model), so a field added to the model
later does not change old rows' hashes, and a field added to a stored row does. Changing, removing or
re-ordering a chained row breaks the links from it on, so a walk from the start finds the first bad row. Rows written before the chain existed carry no hash; they
are counted as "before the chain" and the chain starts after them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.domain.models import AuditEvent

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainLink:
    """One stored audit row as the chain sees it.

    ``seq`` is its position; ``fields`` the event's stored fields; the hashes are None before the chain.
    """

    seq: int
    fields: Mapping[str, Any]
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the chain found: ``broken_at`` is the seq of the first bad row (None when intact)."""

    rows: int
    before_chain: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields a store keeps for ``event`` (JSON values; empty ones left out, as the stores leave them)."""
    return {k: v for k, v in json.loads(event.model_dump_json()).items() if v is not None}


def canonical(fields: Mapping[str, Any]) -> str:
    """One stable text of a row's fields (sorted keys, no spaces, nulls dropped): the bytes that are hashed."""
    kept = {k: v for k, v in fields.items() if v is not None}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of a row holding ``fields`` that follows a row whose hash is ``prev_hash``."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(fields)}".encode()).hexdigest()


def verify_chain(links: Iterable[ChainLink], head: tuple[int, str] | None = None) -> ChainReport:
    """Walk ``links`` oldest first and report the first broken link.

    Args:
        links: every stored row in chain order.
        head: (seq, hash) of the newest chained row as the store's head recorded it (read before the walk),
            when it keeps one; a chain that never reaches that row lost rows at its end.
    """
    rows = before = 0
    prev: str | None = None
    reached_head = head is None
    for link in links:
        rows += 1
        if link.hash is None:
            if prev is not None:
                return ChainReport(rows, before, link.seq, "a row without a hash after the chain started")
            before += 1
            continue
        expected_prev = GENESIS if prev is None else prev
        if link.prev_hash != expected_prev:
            return ChainReport(rows, before, link.seq, "it does not link to the row before (a row removed or added)")
        if link_hash(expected_prev, link.fields) != link.hash:
            return ChainReport(rows, before, link.seq, "its content does not match its hash (the row was changed)")
        prev = link.hash
        reached_head = reached_head or (link.seq, link.hash) == head
    if not reached_head and head is not None:
        return ChainReport(rows, before, head[0], "the chain ends before its recorded head (rows removed at the end)")
    return ChainReport(rows, before)
