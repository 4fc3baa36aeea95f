"""A retried request's first answer, kept under the client's ``Idempotency-Key`` for a while.

A client that lost a response (a dropped mobile connection) sends the same request again with the same key and
gets the first response instead of a second patient or a second job. A record starts *pending* (claimed by the
request that is running, for a short while so a crashed process does not hold the key for good) and becomes
*done* with the response, kept until ``expires_at``. The request it answered is known by its ``fingerprint``
(method, path and body), so the same key sent with a different request is told apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IdempotencyRecord:
    """One key's record. Times are epoch milliseconds; ``status`` is None while the first request runs."""

    key: str  # the scoped key (see :func:`scoped_key`), never the client's raw header
    fingerprint: str
    expires_at: int
    status: int | None = None
    body: str = ""  # the response body (JSON text)
    headers: dict[str, str] = field(default_factory=dict)  # the response headers worth replaying (Location, ETag)

    @property
    def pending(self) -> bool:
        return self.status is None

    def live(self, now_ms: int) -> bool:
        """False once expired: the key may then be used again as new."""
        return self.expires_at > now_ms


def scoped_key(principal: str, client_key: str) -> str:
    """The stored key: one caller's keys never meet another's (two apps may both pick "1")."""
    return hashlib.sha256(f"{principal}\n{client_key}".encode()).hexdigest()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies the request a key was first used for."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
