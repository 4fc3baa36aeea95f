"""Unit tests cannot open network sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

from backend.ports import RecordStore
from tests.fakes.records import fake_record_store


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def stores() -> RecordStore:
    return fake_record_store()
