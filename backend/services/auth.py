"""Sign-in with argon2 password hashes, throttling and lock-out; user management for admins."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.domain.errors import AlreadyExists, AuthenticationFailed, ConcurrentUpdate, NotFound, ValidationFailed
from backend.domain.models import Role, User, now_ms
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require

_HASHER = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,63}$")
MIN_PASSWORD = 8
# A hash to verify against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_minutes: int = 15
    slowdown_seconds: float = 0.5  # added per failure after the second, capped below


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"The password is too short: use at least {MIN_PASSWORD} characters.")
    if len(password) > 256:
        raise ValidationFailed("The password is too long: use at most 256 characters.")
    return _HASHER.hash(password)


def principal_of(user: User, nurse_can_sign: bool = False) -> Principal:
    extra = frozenset({Permission.SIGN_NOTES}) if nurse_can_sign and user.role is Role.NURSE else frozenset()
    return Principal(username=user.username, role=user.role, extra=extra)


def login(
    stores: RecordStore, username: str, password: str, policy: LoginPolicy = LoginPolicy(), nurse_can_sign: bool = False
) -> Principal:
    """Check the password. Failures are counted; too many lock the account for a while.

    Raises:
        AuthenticationFailed: wrong credentials, disabled or locked account (one vague message for the first two).
    """
    username = username.strip().lower()
    try:
        user = stores.users.get(username)
    except NotFound:
        _verify(_DUMMY_HASH, password)
        raise AuthenticationFailed("Wrong username or password.") from None
    now = now_ms()
    if user.locked_until > now:
        minutes = max(1, round((user.locked_until - now) / 60000))
        raise AuthenticationFailed(
            f"Too many failed sign-ins: this account is locked for about {minutes} more minute(s)."
        )
    if user.disabled:
        _verify(user.password_hash, password)
        raise AuthenticationFailed("Wrong username or password.")
    if not _verify(user.password_hash, password):
        failures = user.failed_attempts + 1
        locked_until = now + policy.lock_minutes * 60_000 if failures >= policy.max_failures else 0
        _save(
            stores,
            user.model_copy(update={"failed_attempts": 0 if locked_until else failures, "locked_until": locked_until}),
        )
        if failures > 2:
            time.sleep(min(policy.slowdown_seconds * (failures - 2), 3.0))
        if locked_until:
            raise AuthenticationFailed(
                f"Too many failed sign-ins: this account is locked for {policy.lock_minutes} minutes."
            )
        raise AuthenticationFailed("Wrong username or password.")
    if user.failed_attempts or user.locked_until:
        _save(stores, user.model_copy(update={"failed_attempts": 0, "locked_until": 0}))
    principal = principal_of(user, nurse_can_sign)
    record(stores.audit, principal, "auth.login")
    return principal


def create_user(
    stores: RecordStore, actor: Principal | None, username: str, password: str, role: Role, display_name: str = ""
) -> User:
    """Add a user as a signed-in admin. ``actor`` None is allowed only while no user exists (first-run admin)."""
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
    elif stores.users.list_all():
        raise ValidationFailed("Users exist already: sign in as an admin to add more.")
    user = add_user(stores, username, password, role, display_name)
    if actor is not None:
        record(stores.audit, actor, "user.create", detail=f"{user.username} ({role.value})")
    return user


def add_user(stores: RecordStore, username: str, password: str, role: Role, display_name: str = "") -> User:
    """Validate and store a user (the operator's CLI path; pages go through :func:`create_user`)."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "Usernames are 2–64 characters: lowercase letters, digits, or . _ - @ + (an e-mail address works)."
        )
    user = User(
        username=username, role=role, password_hash=hash_password(password), display_name=display_name.strip()[:80]
    )
    try:
        stores.users.add(user)
    except AlreadyExists as e:
        raise AlreadyExists(f"The username {username!r} is taken.") from e
    return user


def set_password(stores: RecordStore, actor: Principal | None, username: str, password: str) -> None:
    if actor is not None and actor.username != username:
        require(actor, Permission.MANAGE_USERS)
    user = stores.users.get(username)
    stores.users.update(
        user.model_copy(update={"password_hash": hash_password(password), "failed_attempts": 0, "locked_until": 0}),
        user.version,
    )
    if actor is not None:
        record(stores.audit, actor, "user.password", detail=username)


def set_disabled(stores: RecordStore, actor: Principal | None, username: str, disabled: bool) -> None:
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
        if actor.username == username and disabled:
            raise ValidationFailed("You cannot disable your own account.")
    user = stores.users.get(username)
    stores.users.update(user.model_copy(update={"disabled": disabled}), user.version)
    if actor is not None:
        record(stores.audit, actor, "user.disable" if disabled else "user.enable", detail=username)


def list_users(stores: RecordStore, actor: Principal | None) -> list[User]:
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
    return stores.users.list_all()


def ensure_user(stores: RecordStore, username: str, password: str, role: Role, display_name: str = "") -> None:
    """Create a user if missing (demo accounts); leaves an existing one untouched."""
    try:
        stores.users.get(username)
    except NotFound:
        user = User(username=username, role=role, password_hash=hash_password(password), display_name=display_name)
        with contextlib.suppress(AlreadyExists):
            stores.users.add(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _save(stores: RecordStore, user: User) -> None:
    # A parallel sign-in updated the counters; losing one count is harmless.
    with contextlib.suppress(ConcurrentUpdate):
        stores.users.update(user, user.version)


def principal_for_sso(stores: RecordStore, email: str, nurse_can_sign: bool = False) -> Principal:
    """Map an identity proven by the OIDC provider to a local account of the same name (its role decides)."""
    try:
        user = stores.users.get(email.strip().lower())
    except NotFound:
        raise AuthenticationFailed(
            f"{email} has no account here yet: ask an administrator to add it with a role."
        ) from None
    if user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    principal = principal_of(user, nurse_can_sign)
    record(stores.audit, principal, "auth.login.sso")
    return principal
