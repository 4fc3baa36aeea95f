"""Unit tests cannot open network sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from pytest_socket import disable_socket, enable_socket

from backend.ports import RecordStore
from backend.services import auth
from tests.fakes.records import fake_record_store


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests check what is done with a password hash, not argon2's cost (0.1-0.2 CPU-second a hash).

    ``tests/unit/test_auth.py`` overrides this fixture by name and checks that the real hasher has the real cost.
    """
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def stores() -> RecordStore:
    return fake_record_store()
