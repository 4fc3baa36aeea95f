"""The first administrator: created from the command line, or on the sign-in page with a one-time setup token.

While no account exists the server writes a random token to ``<data dir>/setup-token`` (readable only by the
server's own user) and prints it to its console. Whoever can read that console or file runs the machine
anyway; a visitor who merely reaches the page cannot create an account. The token is used up (deleted) by
the account it creates, and removed as soon as any account exists.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

from backend.domain.errors import AuthenticationFailed, ValidationFailed
from backend.domain.models import Role, User
from backend.ports import RecordStore
from backend.services.access import Principal, record
from backend.services.auth import add_user, check_username, hash_password

SETUP_FILE = "setup-token"
WRONG_SETUP = "That setup token is not right: copy it from the server's console or its setup-token file."
USED = "The setup token has been used already: sign in, or ask the person who created the administrator."


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / SETUP_FILE


def needs_first_admin(stores: RecordStore) -> bool:
    """True while no account exists (the sign-in page then offers the setup-token form instead)."""
    return not stores.users.list_all()


def issue_setup_token(stores: RecordStore, data_dir: Path) -> tuple[str, bool] | None:
    """The setup token while no account exists, and whether this call created it; None once accounts exist.

    The token file is created with owner-only permissions (0600); an existing file is kept, so the token
    does not change while the IT person goes to fetch it.
    """
    path = token_path(data_dir)
    if stores.users.list_all():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    try:
        # O_EXCL: two server processes starting together keep one token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path.read_text(encoding="utf-8").strip(), False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, True


def check_setup_token(data_dir: Path, token: str) -> bool:
    """True if ``token`` is the current setup token (compared in constant time)."""
    try:
        expected = token_path(data_dir).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return False
    return bool(expected) and hmac.compare_digest(expected.encode(), token.strip().encode())


def create_first_admin(
    stores: RecordStore, data_dir: Path, token: str, username: str, password: str, display_name: str = "Administrator"
) -> User:
    """Create the first administrator with the setup token, use the token up, and audit it.

    Raises:
        ValidationFailed: accounts exist already, or the username/password is not acceptable.
        AuthenticationFailed: the token is wrong or was used by a parallel request.
    """
    if stores.users.list_all():
        raise ValidationFailed("Accounts exist already: sign in as an admin to add more.")
    if not check_setup_token(data_dir, token):
        raise AuthenticationFailed(WRONG_SETUP)
    check_username(username)
    hash_password(password)  # rejects a bad password before the token is used up
    path = token_path(data_dir)
    claimed = path.with_name(f".{SETUP_FILE}.{uuid.uuid4().hex}.claimed")
    try:
        # A rename is atomic: of two parallel requests with the right token, exactly one gets it.
        os.replace(path, claimed)
    except FileNotFoundError:
        raise AuthenticationFailed(USED) from None
    if not hmac.compare_digest(claimed.read_text(encoding="utf-8").strip().encode(), token.strip().encode()):
        os.replace(claimed, path)  # a newer token was issued meanwhile: this one is used up
        raise AuthenticationFailed(USED)
    try:
        user = add_user(stores, username, password, Role.ADMIN, display_name)
    except Exception:
        os.replace(claimed, path)  # nothing was created: the token stays valid
        raise
    claimed.unlink()
    record(
        stores.audit,
        Principal(user.username, Role.ADMIN),
        "user.create.first_admin",
        detail=f"{user.username} (admin) created with the one-time setup token",
    )
    return user
