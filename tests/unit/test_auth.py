"""Sign-in, lock-out, roles and user management."""

from __future__ import annotations

import pytest

from backend.domain.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.access import Permission, Principal

FAST = auth.LoginPolicy(max_failures=3, lock_minutes=15, slowdown_seconds=0.0)


def test_password_is_hashed_with_argon2_and_login_works(stores: RecordStore) -> None:
    auth.add_user(stores, "Asha", "correct horse", Role.NURSE)
    user = stores.users.get("asha")
    assert user.password_hash.startswith("$argon2id$") and "correct horse" not in user.password_hash
    principal = auth.login(stores, "asha", "correct horse", FAST)
    assert principal == Principal("asha", Role.NURSE)
    assert stores.audit.query(actor="asha").items[0].action == "auth.login"


def test_wrong_password_then_lockout(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
            auth.login(stores, "asha", "nope", FAST)
    with pytest.raises(AuthenticationFailed, match="locked"):
        auth.login(stores, "asha", "nope", FAST)
    with pytest.raises(AuthenticationFailed, match="locked"):
        auth.login(stores, "asha", "correct horse", FAST)  # even the right password waits out the lock


def test_unknown_user_and_disabled_user_get_the_same_message(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    auth.set_disabled(stores, None, "asha", True)
    for name in ("asha", "nobody"):
        with pytest.raises(AuthenticationFailed, match=r"^Wrong username or password\.$"):
            auth.login(stores, name, "correct horse", FAST)


def test_only_admins_manage_users_and_first_admin_needs_empty_store(stores: RecordStore) -> None:
    admin = Principal("root", Role.ADMIN)
    auth.create_user(stores, None, "root", "long enough", Role.ADMIN)
    with pytest.raises(ValidationFailed, match="Users exist already"):
        auth.create_user(stores, None, "second", "long enough", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        auth.create_user(stores, Principal("dr", Role.DOCTOR), "x1", "long enough", Role.NURSE)
    auth.create_user(stores, admin, "dr", "long enough", Role.DOCTOR)
    assert [u.username for u in auth.list_users(stores, admin)] == ["dr", "root"]
    with pytest.raises(ValidationFailed, match="too short"):
        auth.create_user(stores, admin, "x2", "short", Role.NURSE)
    with pytest.raises(ValidationFailed, match="Usernames"):
        auth.create_user(stores, admin, "<script>", "long enough", Role.NURSE)


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (
            Role.NURSE,
            {Permission.RECORD, Permission.DIGITIZE, Permission.WRITE_PATIENTS},
            {Permission.SIGN_NOTES, Permission.READ_AUDIT, Permission.MANAGE_USERS},
        ),
        (Role.DOCTOR, {Permission.SIGN_NOTES, Permission.READ_AUDIT, Permission.RECORD}, {Permission.MANAGE_USERS}),
        (
            Role.ADMIN,
            {Permission.MANAGE_USERS, Permission.READ_AUDIT},
            {Permission.READ_PATIENTS, Permission.SIGN_NOTES},
        ),
    ],
)
def test_role_grants(role: Role, allowed: set[Permission], denied: set[Permission]) -> None:
    p = Principal("x", role)
    assert all(p.can(a) for a in allowed)
    assert not any(p.can(d) for d in denied)


def test_nurse_may_sign_only_where_configured(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    assert not auth.login(stores, "asha", "correct horse", FAST).can(Permission.SIGN_NOTES)
    assert auth.login(stores, "asha", "correct horse", FAST, nurse_can_sign=True).can(Permission.SIGN_NOTES)
