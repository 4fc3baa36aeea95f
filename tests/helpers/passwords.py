"""Cheap password hashing for tests of what is done with a hash (counting, lock-out, who may sign in).

Argon2 at the production cost takes 0.1-0.2 CPU-second a hash; these parameters take a millisecond. The dummy
hash (checked when an account does not exist, so a missing account costs as much as a wrong password) is made
with the same cheap parameters, or every unknown-user check would still pay the real cost.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from backend.services import auth


def use_cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Swap the sign-in service's hasher and dummy hash for cheap ones (until ``monkeypatch`` undoes it)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_HASHER", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
    return cheap
