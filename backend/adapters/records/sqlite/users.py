"""Users in SQLite."""

from __future__ import annotations

import sqlite3

from backend.adapters.records.sqlite.db import Database
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import User


class SqliteUserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, user: User) -> None:
        try:
            with self._db.tx() as conn:
                conn.execute(
                    "INSERT INTO users (username, version, body) VALUES (?, ?, ?)",
                    (user.username, user.version, user.model_dump_json()),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f"User {user.username!r} already exists.") from e

    def get(self, username: str) -> User:
        rows = self._db.query("SELECT body FROM users WHERE username = ?", (username,))
        if not rows:
            raise NotFound(f"No user {username!r}.")
        return User.model_validate_json(rows[0]["body"])

    def update(self, user: User, expected_version: int) -> User:
        stored = user.model_copy(update={"version": expected_version + 1})
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE users SET version = ?, body = ? WHERE username = ? AND version = ?",
                (stored.version, stored.model_dump_json(), user.username, expected_version),
            )
            if cur.rowcount == 0:
                if conn.execute("SELECT 1 FROM users WHERE username = ?", (user.username,)).fetchone() is None:
                    raise NotFound(f"No user {user.username!r}.")
                raise ConcurrentUpdate()
        return stored

    def list_all(self) -> list[User]:
        return [User.model_validate_json(r["body"]) for r in self._db.query("SELECT body FROM users ORDER BY username")]
