"""A named lease shared by every process on one record store: who holds it, until when, and whether it is done.

A run that must happen at most once (one wearable sync per day) takes the lease named after it; a second process
finds it held (or done) and stays out. A holder that dies simply stops renewing: once ``expires_at`` passes,
another process may take the lease over. A finished lease is kept, so the run is never repeated.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Lease:
    """One lease row. Times are epoch milliseconds."""

    name: str
    owner: str
    expires_at: int
    done_at: int | None = None
    detail: str = ""  # a short summary written when the run finishes (counts only, never patient data)

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def free_for(self, owner: str, now_ms: int) -> bool:
        """True when ``owner`` may take (or renew) this lease at ``now_ms``."""
        return not self.done and (self.owner == owner or self.expires_at <= now_ms)


def process_owner() -> str:
    """A lease owner naming this process: host, process id and a random part (a restarted pid is a new owner)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"
