"""Personal API tokens in SQLite: keyed by token_id, found by the digest of the secret (a unique index)."""

from __future__ import annotations

import sqlite3

from backend.adapters.records.sqlite.db import Database
from backend.domain.api_tokens import ApiToken
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound


class SqliteApiTokenStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, token: ApiToken) -> None:
        try:
            with self._db.tx() as conn:
                conn.execute(
                    "INSERT INTO api_tokens (token_id, secret_hash, username, created_at, version, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        token.token_id,
                        token.secret_hash,
                        token.username,
                        token.created_at,
                        token.version,
                        token.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f"Token {token.token_id!r} (or its secret) already exists.") from e

    def get(self, token_id: str) -> ApiToken:
        rows = self._db.query("SELECT body FROM api_tokens WHERE token_id = ?", (token_id,))
        if not rows:
            raise NotFound(f"No API token {token_id[:40]!r}.")
        return ApiToken.model_validate_json(rows[0]["body"])

    def find_by_hash(self, secret_hash: str) -> ApiToken:
        rows = self._db.query("SELECT body FROM api_tokens WHERE secret_hash = ?", (secret_hash,))
        if not rows:
            raise NotFound("No such API token.")
        return ApiToken.model_validate_json(rows[0]["body"])

    def update(self, token: ApiToken, expected_version: int) -> ApiToken:
        stored = token.model_copy(update={"version": expected_version + 1})
        with self._db.tx() as conn:
            # The key and the digest never change: only the body (revocation) and the version do.
            cur = conn.execute(
                "UPDATE api_tokens SET version = ?, body = ? WHERE token_id = ? AND version = ? AND secret_hash = ?",
                (stored.version, stored.model_dump_json(), token.token_id, expected_version, token.secret_hash),
            )
            if cur.rowcount == 0:
                if conn.execute("SELECT 1 FROM api_tokens WHERE token_id = ?", (token.token_id,)).fetchone() is None:
                    raise NotFound(f"No API token {token.token_id!r}.")
                raise ConcurrentUpdate()
        return stored

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        if username is None:
            rows = self._db.query("SELECT body FROM api_tokens ORDER BY created_at DESC, token_id DESC")
        else:
            rows = self._db.query(
                "SELECT body FROM api_tokens WHERE username = ? ORDER BY created_at DESC, token_id DESC", (username,)
            )
        return [ApiToken.model_validate_json(r["body"]) for r in rows]
