"""UserStore contract."""

from __future__ import annotations

import pytest

from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import Role, User
from backend.ports import RecordStore


def test_users_add_get_update_list(record_store: RecordStore) -> None:
    users = record_store.users
    nurse = User(username="asha", role=Role.NURSE, password_hash="h1", display_name="Asha")
    users.add(nurse)
    users.add(User(username="dev", role=Role.DOCTOR, password_hash="h2"))
    with pytest.raises(AlreadyExists):
        users.add(User(username="asha", role=Role.ADMIN, password_hash="evil"))
    assert users.get("asha").role == Role.NURSE
    locked = users.update(nurse.model_copy(update={"failed_attempts": 3, "locked_until": 123}), expected_version=1)
    assert locked.version == 2
    with pytest.raises(ConcurrentUpdate):
        users.update(nurse.model_copy(update={"disabled": True}), expected_version=1)
    stored = users.get("asha")
    assert (stored.failed_attempts, stored.disabled, stored.version) == (3, False, 2)
    assert [u.username for u in users.list_all()] == ["asha", "dev"]
    with pytest.raises(NotFound):
        users.get("nobody")
