"""Personal API tokens: the record kept of each one, and how a secret maps to what is stored.

A token is ``cop_`` + 43 URL-safe characters (32 random bytes). Only the SHA-256 digest of the whole string
is stored: the secret is random and long, so a plain digest is as good as a slow password hash here and lets
a store find the token by the digest in one key lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel, Field

from backend.domain.models import Role, now_ms

PREFIX = "cop_"
_SECRET_BYTES = 32


class ApiToken(BaseModel):
    """One issued token (never its secret)."""

    token_id: str  # "TOK_" + 12 hex, shown in lists and used to revoke
    secret_hash: str  # sha256 hex of the whole token string
    username: str
    role: Role  # the account's role when the token was made: the token stops working if the role changes
    label: str = ""
    created_at: int = Field(default_factory=now_ms)
    created_by: str = ""
    expires_at: int  # epoch ms
    revoked_at: int | None = None
    revoked_by: str | None = None
    version: int = 1

    def usable_at(self, at_ms: int) -> bool:
        """True while the token is neither revoked nor expired at ``at_ms``."""
        return self.revoked_at is None and at_ms < self.expires_at


def new_secret() -> str:
    """A fresh token string (shown once, never stored)."""
    return PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def new_token_id() -> str:
    return f"TOK_{secrets.token_hex(6)}"


def digest(token: str) -> str:
    """What the store keeps of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    """True for strings shaped like our tokens (JWTs and other bearer strings are told apart by this)."""
    return value.startswith(PREFIX) and 40 <= len(value) <= 80
