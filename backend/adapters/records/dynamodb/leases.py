"""Named leases in DynamoDB: items of the ``Jobs`` table keyed ``job_id = "LEASE#<name>"``.

A lease is a small run-control row like a job, so it lives beside the jobs instead of in a table of its own
(no new table to create, back up or grant). It carries neither ``status`` nor ``patient_id``, so it never
appears in the jobs' indexes. Taking, finishing and releasing are conditional PutItems: atomic across
processes and hosts.
"""

from __future__ import annotations

from typing import Any

from backend.adapters.records.dynamodb.base import Table, av, plain
from backend.adapters.records.dynamodb.tables import JOBS
from backend.domain.leases import Lease

_PREFIX = "LEASE#"
_NAMES = {"#k": "job_id", "#o": "lease_owner", "#e": "expires_at", "#d": "done_at"}


class DynamoLeaseStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + JOBS)

    def acquire(self, name: str, owner: str, now_ms: int, ttl_ms: int) -> Lease | None:
        lease = Lease(name, owner, now_ms + ttl_ms)
        # A renewal keeps nothing of the old item but the name: a lease carries no history.
        ok = self._put(
            lease,
            "attribute_not_exists(#k) OR (attribute_not_exists(#d) AND (#o = :owner OR #e <= :now))",
            {":owner": av(owner), ":now": av(now_ms)},
        )
        return lease if ok else None

    def finish(self, name: str, owner: str, now_ms: int, detail: str = "") -> bool:
        current = self.get(name)
        if current is None or current.owner != owner or current.done:
            return False
        done = Lease(name, owner, current.expires_at, now_ms, detail[:500])
        return self._put(done, "#o = :owner AND attribute_not_exists(#d)", {":owner": av(owner)})

    def release(self, name: str, owner: str) -> None:
        self._put(Lease(name, owner, 0), "#o = :owner AND attribute_not_exists(#d)", {":owner": av(owner)})

    def get(self, name: str) -> Lease | None:
        item = self._t.get({"job_id": av(_PREFIX + name)})
        if item is None:
            return None
        row = plain(item)
        done = row.get("done_at")
        return Lease(
            name,
            str(row["lease_owner"]),
            int(row["expires_at"]),
            int(done) if done is not None else None,
            str(row.get("detail", "")),
        )

    def _put(self, lease: Lease, condition: str, values: dict[str, Any]) -> bool:
        item: dict[str, Any] = {
            "job_id": av(_PREFIX + lease.name),
            "lease_owner": av(lease.owner),
            "expires_at": av(lease.expires_at),
            "detail": av(lease.detail),
        }
        if lease.done_at is not None:
            item["done_at"] = av(lease.done_at)
        names = {k: v for k, v in _NAMES.items() if k in condition}
        return self._t.put_if(item, condition, names, values)
