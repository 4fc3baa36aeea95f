"""Sign-in with argon2 password hashes, lock-out and throttling (see login_guard); user management for admins."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
from collections.abc import Mapping
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.domain.errors import AlreadyExists, AuthenticationFailed, ConcurrentUpdate, NotFound, ValidationFailed
from backend.domain.models import AuditEvent, Role, User
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.login_guard import Count, LoginGuard, LoginPolicy, count_refusal

_HASHER = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,63}$")
MIN_PASSWORD = 8
# Verified when the account does not exist (or is disabled), so such attempts cost the same work.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
WRONG = "Wrong username or password."
# Audit actors for attempts without a known account; parentheses cannot occur in a username.
UNKNOWN_ACTOR = "(unknown)"
CLIENT_ACTOR = "(client)"
# Names an audit reader could take for the operator's command line or the system itself (whose actions are
# audited as "(command line)" / "operator"): no account may be created with them.
RESERVED_USERNAMES = frozenset(
    {"cli", "system", "operator", "command-line", "commandline", "unknown", "client", "anonymous", "none"}
)
_COUNT_RETRIES = 200  # each lost race means another attempt was counted, so this only ends a pathological storm
_log = logging.getLogger(__name__)


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
    stores: RecordStore,
    username: str,
    password: str,
    guard: LoginGuard | None = None,
    nurse_can_sign: bool = False,
    client: str | None = None,
) -> Principal:
    """Check the password; every refused attempt is counted and audited, too many lock the username.

    Unknown, disabled and known accounts get the same messages and the same work (a password check), so
    sign-in does not reveal which usernames exist.

    Args:
        stores: the record store.
        username: as typed.
        password: as typed (never stored or logged).
        guard: the process's throttle (one per server); a fresh one when None (then only the stored lock applies).
        nurse_can_sign: settings flag for the principal.
        client: the caller's address, for per-client throttling ("local" when unknown).

    Raises:
        AuthenticationFailed: wrong credentials, disabled, locked, throttled, or the server is busy.
    """
    guard = guard or LoginGuard()
    name = username.strip().lower()[:64]
    client = (client or "local")[:64]
    now = guard.now_ms()
    user = _find(stores, name)
    refusal = guard.admit(client)
    if refusal is not None:
        _refuse(stores, guard, user, name, client, now, "client-throttled", refusal, audit=False)
    try:
        return _check(stores, guard, user, name, password, client, now, nurse_can_sign)
    finally:
        guard.settle(client)


def _check(
    stores: RecordStore,
    guard: LoginGuard,
    user: User | None,
    name: str,
    password: str,
    client: str,
    now: int,
    nurse_can_sign: bool,
) -> Principal:
    """The admitted attempt: lock, password, then the principal (every refusal counted before it is settled)."""
    locked_until = user.locked_until if user is not None else guard.name_locked_until(name)
    if locked_until > now:
        minutes = max(1, math.ceil((locked_until - now) / 60_000))
        message = f"Too many failed sign-ins: this account is locked for about {minutes} more minute(s)."
        _refuse(stores, guard, user, name, client, now, "locked", message)
    with guard.hashing():
        ok = _verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    if user is None or user.disabled or not ok:
        reason = "unknown-account" if user is None else "disabled" if user.disabled else "wrong-password"
        _refuse(stores, guard, user, name, client, now, reason, WRONG)
    if user.failed_attempts or user.locked_until:
        _reset_counters(stores, name)
    guard.forget_name(name)
    principal = principal_of(user, nurse_can_sign)
    record(stores.audit, principal, "auth.login", detail=f"client={client}")
    return principal


def _find(stores: RecordStore, name: str) -> User | None:
    if not _USERNAME.match(name):
        return None
    try:
        return stores.users.get(name)
    except NotFound:
        return None


def _refuse(
    stores: RecordStore,
    guard: LoginGuard,
    user: User | None,
    name: str,
    client: str,
    now: int,
    reason: str,
    message: str,
    audit: bool = True,
) -> NoReturn:
    """Count the refusal (stored for accounts, in the guard for unknown names), audit it, and raise."""
    count = _count_stored(stores, name, now, guard.policy) if user is not None else guard.count_name(name)
    counted = guard.count_client(client)
    actor = user.username if user is not None else UNKNOWN_ACTOR
    role = user.role.value if user is not None else "none"
    # A mistyped username can be someone's password: unknown names are kept only as a short digest.
    who = "" if user is not None else f" name#{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    if audit:
        _audit(stores, actor, role, "auth.login.failed", f"reason={reason} client={client}{who} count={count.failures}")
    if count.just_locked:
        _audit(
            stores,
            actor,
            role,
            "auth.lockout",
            f"{count.failures} refused sign-ins; locked for {guard.policy.lock_minutes} minutes; client={client}{who}",
        )
        message = f"Too many failed sign-ins: this account is locked for {guard.policy.lock_minutes} minutes."
    if counted.client_blocked:
        _audit(stores, CLIENT_ACTOR, "none", "auth.lockout.client", f"client={client} blocked after repeated failures")
        message = guard.client_refusal(client) or message
    if counted.global_limited:
        _audit(
            stores,
            CLIENT_ACTOR,
            "none",
            "auth.lockout.global",
            f"{guard.policy.global_free_failures} failed sign-ins within {guard.policy.lock_minutes} minutes from "
            f"all clients: one attempt per {guard.policy.global_interval_seconds:g} s server-wide; last client={client}",
        )
    raise AuthenticationFailed(message)


def _count_stored(stores: RecordStore, name: str, now: int, policy: LoginPolicy) -> Count:
    # Read-modify-write retried on a lost race, so N parallel refusals count N (a dropped write let guesses through).
    for _ in range(_COUNT_RETRIES):
        user = stores.users.get(name)
        count = count_refusal(user.failed_attempts, user.locked_until, now, policy)
        try:
            stores.users.update(
                user.model_copy(update={"failed_attempts": count.failures, "locked_until": count.locked_until}),
                user.version,
            )
        except ConcurrentUpdate:
            continue
        return count
    _log.warning("sign-in failure for %s not counted after %d lost races", name, _COUNT_RETRIES)
    return Count(user.failed_attempts, user.locked_until, False)


def _reset_counters(stores: RecordStore, name: str) -> None:
    for _ in range(_COUNT_RETRIES):
        user = stores.users.get(name)
        try:
            stores.users.update(user.model_copy(update={"failed_attempts": 0, "locked_until": 0}), user.version)
        except ConcurrentUpdate:
            continue
        return


def _audit(stores: RecordStore, actor: str, role: str, action: str, detail: str) -> None:
    stores.audit.append(AuditEvent(actor=actor, role=role, action=action, detail=detail[:500]))


def create_user(
    stores: RecordStore, actor: Principal | None, username: str, password: str, role: Role, display_name: str = ""
) -> User:
    """Add a user as a signed-in admin (the first administrator comes from the setup token or the CLI)."""
    if actor is None:
        raise ValidationFailed(
            "Only a signed-in admin can add users: sign in as an admin (the first administrator is created with "
            "the setup token or `python -m backend users add NAME --role admin`)."
        )
    require(actor, Permission.MANAGE_USERS)
    user = add_user(stores, username, password, role, display_name)
    record(stores.audit, actor, "user.create", detail=f"{user.username} ({role.value})")
    return user


def check_username(username: str) -> str:
    """The normalised username, or ValidationFailed saying what a username may hold."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "Usernames are 2–64 characters: lowercase letters, digits, or . _ - @ + (an e-mail address works)."
        )
    if username in RESERVED_USERNAMES:
        raise ValidationFailed(
            f"The username {username!r} is reserved for the system's own audit entries: choose another name."
        )
    return username


def add_user(stores: RecordStore, username: str, password: str, role: Role, display_name: str = "") -> User:
    """Validate and store a user (the operator's CLI path; pages go through :func:`create_user`)."""
    username = check_username(username)
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


def password_matches(user: User, password: str) -> bool:
    """True if ``password`` is the user's password (for operator checks; sign-in goes through :func:`login`)."""
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_for_sso(
    stores: RecordStore,
    claims: Mapping[str, object],
    nurse_can_sign: bool = False,
    now_s: float | None = None,
    max_age_s: float | None = None,
) -> Principal:
    """Map an identity proven by the OIDC provider to a local account, bound to its issuer and subject.

    The account is found by the e-mail claim (usernames are e-mail addresses for SSO users). The first SSO
    sign-in binds the account to the token's ``iss`` + ``sub``, and only when the provider says it verified the
    address; every later one must present that same pair, so a new identity that merely claims the same
    address (another tenant, a re-created mailbox, a provider that lets users edit their e-mail) is refused.

    Args:
        stores: the record store.
        claims: the ID token's claims as Streamlit keeps them (``st.user``).
        nurse_can_sign: settings flag for the principal.
        now_s: the current time (seconds), with ``max_age_s``.
        max_age_s: refuse an identity whose ``iat`` is older than this (the browser's identity cookie lives for
            weeks); None: no limit.

    Raises:
        AuthenticationFailed: stale or incomplete claims, unverified e-mail, no or disabled account, or an
            account bound to another identity (audited).
    """
    email = _claim(claims, "email").lower()
    issuer, subject = _claim(claims, "iss"), _claim(claims, "sub")
    if not email or not issuer or not subject:
        raise AuthenticationFailed(SSO_INCOMPLETE)
    if max_age_s is not None and now_s is not None and not _fresh(claims.get("iat"), now_s, max_age_s):
        raise AuthenticationFailed(SSO_STALE)
    user = _find(stores, email)
    if user is None:
        raise AuthenticationFailed(f"{email} has no account here yet: ask an administrator to add it with a role.")
    if user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    if user.sso_issuer is None or user.sso_subject is None:
        user = _bind_sso(stores, user, claims, issuer, subject)
    if (user.sso_issuer, user.sso_subject) != (issuer, subject):
        reason = "sso-other-issuer" if user.sso_issuer != issuer else "sso-other-subject"
        _audit(stores, user.username, user.role.value, "auth.login.failed", f"reason={reason} {_who(issuer, subject)}")
        raise AuthenticationFailed(SSO_OTHER_IDENTITY)
    principal = principal_of(user, nurse_can_sign)
    record(stores.audit, principal, "auth.login.sso", detail=f"iss={issuer[:200]}")
    return principal


SSO_INCOMPLETE = (
    "Your organisation's sign-in did not say who you are (no e-mail address, issuer or subject): ask your IT "
    "team to include the email scope, or sign in with a password."
)
SSO_STALE = "Your single sign-on has expired here: sign in with your organisation again."
SSO_UNVERIFIED = (
    "Your organisation has not confirmed the e-mail address {email} (email_verified is not true), so it cannot "
    "be linked to an account here: ask your IT team, or sign in with a password."
)
SSO_OTHER_IDENTITY = (
    "This account is linked to another single sign-on identity: ask an administrator (the attempt was recorded)."
)


def _claim(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    return value.strip()[:256] if isinstance(value, str) else ""


def _fresh(iat: object, now_s: float, max_age_s: float) -> bool:
    # bool is an int: a token saying iat=true is not a time.
    return isinstance(iat, int | float) and not isinstance(iat, bool) and now_s - float(iat) <= max_age_s


def _who(issuer: str, subject: str) -> str:
    # The subject is an opaque provider id: the audit keeps a digest, enough to tell two identities apart.
    return f"iss={issuer[:200]} sub#{hashlib.sha256(subject.encode()).hexdigest()[:12]}"


def _bind_sso(stores: RecordStore, user: User, claims: Mapping[str, object], issuer: str, subject: str) -> User:
    """Record the identity on its first SSO sign-in; only a provider-verified address may claim an account."""
    # Some providers send the flag as the string "true" (it is a boolean in the OIDC spec).
    if claims.get("email_verified") not in (True, "true"):
        _audit(
            stores,
            user.username,
            user.role.value,
            "auth.login.failed",
            f"reason=sso-unverified-email {_who(issuer, subject)}",
        )
        raise AuthenticationFailed(SSO_UNVERIFIED.format(email=user.username))
    for _ in range(_COUNT_RETRIES):
        if user.sso_issuer is not None and user.sso_subject is not None:
            return user  # bound by a parallel sign-in meanwhile: the caller compares
        try:
            user = stores.users.update(
                user.model_copy(update={"sso_issuer": issuer, "sso_subject": subject}), user.version
            )
        except ConcurrentUpdate:
            user = stores.users.get(user.username)
            continue
        _audit(stores, user.username, user.role.value, "user.sso.bind", _who(issuer, subject))
        return user
    raise AuthenticationFailed("The server is busy: try again in a moment.")


def display_name(stores: RecordStore, username: str | None) -> str | None:
    """How a user is named on printed pages (a signer, a referring clinician): the display name, else the login."""
    if not username:
        return None
    try:
        user = stores.users.get(username)
    except NotFound:
        return username
    return user.display_name or username
