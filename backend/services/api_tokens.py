"""Personal API tokens: issue (shown once), list, revoke, and turn a presented token into a Principal.

A token acts as its user with the user's role, and only while the account is as it was when the token was
made: a disabled or removed account, or one whose role changed, makes its tokens stop working at once.
Issuing and revoking are audited; a presented token is not (each request's service call audits what it did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

from backend.domain import api_tokens as rules
from backend.domain.api_tokens import ApiToken
from backend.domain.clock_format import moment_text
from backend.domain.errors import AlreadyExists, AuthenticationFailed, ConcurrentUpdate, NotFound, ValidationFailed
from backend.domain.models import Role, now_ms
from backend.ports import RecordStore
from backend.services.access import OPERATOR, Permission, Principal, record, require
from backend.services.auth import principal_for_sso, principal_of

MAX_DAYS = 365
DEFAULT_DAYS = 90
_DAY_MS = 86_400_000
# The machine's operator (the command line) as the audit trail names it; see access.OPERATOR.
_OPERATOR = Principal(OPERATOR, Role.ADMIN)
INVALID = "The API token is not valid: check the Authorization header (Bearer TOKEN) or ask for a new token."


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the secret, shown once; ``record`` is what the store keeps."""

    token: str
    record: ApiToken


def create_token(
    stores: RecordStore,
    actor: Principal | None,
    username: str,
    days: int = DEFAULT_DAYS,
    label: str = "",
) -> IssuedToken:
    """Issue a token for ``username`` that expires after ``days`` days.

    Args:
        stores: the record store.
        actor: a signed-in admin, or None for the machine's operator (the command line).
        username: whose token; it acts with this account's current role.
        days: lifetime, 1 to 365 days.
        label: what the token is for (shown in lists), at most 80 characters.

    Raises:
        PermissionDenied: ``actor`` may not manage users.
        NotFound: no such account.
        ValidationFailed: a disabled account or a lifetime out of range.
    """
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"A token lives 1 to {MAX_DAYS} days; {days} is out of range.")
    user = stores.users.get(username.strip().lower())
    if user.disabled:
        raise ValidationFailed(f"The account {user.username!r} is disabled: enable it before issuing a token.")
    now = now_ms()
    for _ in range(5):
        secret = rules.new_secret()
        token = ApiToken(
            token_id=rules.new_token_id(),
            secret_hash=rules.digest(secret),
            username=user.username,
            role=user.role,
            label=label.strip()[:80],
            created_at=now,
            created_by=(actor or _OPERATOR).username,
            expires_at=now + days * _DAY_MS,
        )
        try:
            stores.api_tokens.add(token)
        except AlreadyExists:
            continue
        break
    else:
        raise ValidationFailed("Could not allocate a token ID; try again.")
    record(
        stores.audit,
        actor or _OPERATOR,
        "api_token.create",
        detail=f"{token.token_id} for {user.username} ({user.role.value}), {days} day(s)",
    )
    return IssuedToken(token=secret, record=token)


def list_tokens(stores: RecordStore, actor: Principal | None, username: str | None = None) -> list[ApiToken]:
    """Every token (or one user's), newest first; ``actor`` None is the operator."""
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
    return stores.api_tokens.list_tokens(username.strip().lower() if username else None)


def revoke_token(stores: RecordStore, actor: Principal | None, token_id: str) -> ApiToken:
    """Revoke a token for good (revoking twice is harmless); ``actor`` None is the operator.

    Raises:
        PermissionDenied: ``actor`` may not manage users.
        NotFound: no such token.
    """
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)
    for _ in range(5):
        token = stores.api_tokens.get(token_id.strip())
        if token.revoked_at is not None:
            return token
        who = (actor or _OPERATOR).username
        try:
            revoked = stores.api_tokens.update(
                token.model_copy(update={"revoked_at": now_ms(), "revoked_by": who}), token.version
            )
        except ConcurrentUpdate:  # revoked (or changed) meanwhile: read it again
            continue
        record(stores.audit, actor or _OPERATOR, "api_token.revoke", detail=f"{token.token_id} of {token.username}")
        return revoked
    raise ValidationFailed("The token changed while it was being revoked; try again.")


def principal_for_token(
    stores: RecordStore, token: str, at_ms: int | None = None, nurse_can_sign: bool = False
) -> Principal:
    """The account a presented token acts for, checked against the account as it is now.

    Raises:
        AuthenticationFailed: unknown, expired or revoked token; a disabled or removed account; a changed role.
    """
    if not rules.looks_like_token(token):
        raise AuthenticationFailed(INVALID)
    try:
        stored = stores.api_tokens.find_by_hash(rules.digest(token))
    except NotFound as e:
        raise AuthenticationFailed(INVALID) from e
    at = now_ms() if at_ms is None else at_ms
    if stored.revoked_at is not None:
        raise AuthenticationFailed("This API token was revoked: ask an administrator for a new one.")
    if not stored.usable_at(at):
        # The REST API speaks UTC: name it, so a client in any zone reads the same instant.
        when = moment_text(stored.expires_at, UTC)
        raise AuthenticationFailed(f"This API token expired at {when}: ask an administrator for a new one.")
    try:
        user = stores.users.get(stored.username)
    except NotFound as e:
        raise AuthenticationFailed("The account of this API token no longer exists.") from e
    if user.disabled:
        raise AuthenticationFailed("The account of this API token is disabled.")
    if user.role is not stored.role:
        raise AuthenticationFailed("The account's role changed since this API token was issued: ask for a new one.")
    return principal_of(user, nurse_can_sign)


def principal_for_oidc_claims(
    stores: RecordStore, claims: Mapping[str, object], nurse_can_sign: bool = False
) -> Principal:
    """The local account of an OIDC bearer token whose signature, issuer, audience and expiry were checked.

    The account is the one named by the ``email`` claim and bound to the token's issuer and subject, as for
    single sign-on in the browser; the first use binds it (audited once), later ones only compare.

    Raises:
        AuthenticationFailed: no such account, disabled, or bound to another identity.
    """
    email = str(claims.get("email") or "").strip().lower()
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    try:
        user = stores.users.get(email) if email else None
    except NotFound:
        user = None
    if user is None or user.sso_issuer is None or user.sso_subject is None:
        return principal_for_sso(stores, claims, nurse_can_sign)  # refuses, or binds and audits the first use
    if user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    if (user.sso_issuer, user.sso_subject) != (issuer, subject):
        return principal_for_sso(stores, claims, nurse_can_sign)  # refuses and audits the other identity
    return principal_of(user, nurse_can_sign)
