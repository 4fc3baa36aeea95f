"""Patients in SQLite, with a token table for word-prefix name search."""

from __future__ import annotations

import sqlite3

from backend.adapters.records.sqlite.db import Database, decode_cursor, encode_cursor
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import Page, Patient, now_ms
from backend.domain.text import name_tokens


class SqlitePatientStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, patient: Patient) -> None:
        try:
            with self._db.tx() as conn:
                conn.execute(
                    "INSERT INTO patients (patient_id, phone, created_at, version, body) VALUES (?, ?, ?, ?, ?)",
                    (patient.patient_id, patient.phone, patient.created_at, patient.version, patient.model_dump_json()),
                )
                self._write_tokens(conn, patient)
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f"Patient {patient.patient_id} already exists.") from e

    def get(self, patient_id: str) -> Patient:
        rows = self._db.query("SELECT body FROM patients WHERE patient_id = ?", (patient_id,))
        if not rows:
            raise NotFound(f"No patient with id {patient_id}.")
        return Patient.model_validate_json(rows[0]["body"])

    def update(self, patient: Patient, expected_version: int) -> Patient:
        stored = patient.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE patients SET phone = ?, version = ?, body = ? WHERE patient_id = ? AND version = ?",
                (stored.phone, stored.version, stored.model_dump_json(), patient.patient_id, expected_version),
            )
            if cur.rowcount == 0:
                exists = conn.execute("SELECT 1 FROM patients WHERE patient_id = ?", (patient.patient_id,)).fetchone()
                if exists is None:
                    raise NotFound(f"No patient with id {patient.patient_id}.")
                raise ConcurrentUpdate()
            conn.execute("DELETE FROM patient_name_tokens WHERE patient_id = ?", (patient.patient_id,))
            self._write_tokens(conn, stored)
        return stored

    def find_by_phone(self, phone: str) -> list[Patient]:
        rows = self._db.query("SELECT body FROM patients WHERE phone = ? ORDER BY created_at", (phone,))
        return [Patient.model_validate_json(r["body"]) for r in rows]

    def search_name(self, fragment: str, limit: int = 20) -> list[Patient]:
        tokens = name_tokens(fragment)
        if not tokens:
            return []
        # Each word of the query must be a prefix of some word of the name: one indexed range per word.
        clauses = " AND ".join(
            "p.patient_id IN (SELECT patient_id FROM patient_name_tokens WHERE token >= ? AND token < ?)"
            for _ in tokens
        )
        params: list[object] = []
        for token in tokens:
            params += [token, token + "\uffff"]
        rows = self._db.query(
            f"SELECT p.body FROM patients p WHERE {clauses} ORDER BY p.created_at DESC LIMIT ?",  # noqa: S608  # nosec B608 - fixed SQL text (constant table/clauses), values bound
            [*params, limit],
        )
        return [Patient.model_validate_json(r["body"]) for r in rows]

    def list_page(self, cursor: str | None = None, limit: int = 25) -> Page[Patient]:
        after = decode_cursor(cursor)
        if after:
            rows = self._db.query(
                "SELECT body, created_at, patient_id FROM patients WHERE (created_at, patient_id) < (?, ?) "
                "ORDER BY created_at DESC, patient_id DESC LIMIT ?",
                (after[0], after[1], limit + 1),
            )
        else:
            rows = self._db.query(
                "SELECT body, created_at, patient_id FROM patients ORDER BY created_at DESC, patient_id DESC LIMIT ?",
                (limit + 1,),
            )
        items = [Patient.model_validate_json(r["body"]) for r in rows[:limit]]
        nxt = (
            encode_cursor([rows[limit - 1]["created_at"], rows[limit - 1]["patient_id"]]) if len(rows) > limit else None
        )
        return Page[Patient](items=items, next_cursor=nxt)

    def count(self) -> int:
        return int(self._db.query("SELECT COUNT(*) AS n FROM patients")[0]["n"])

    @staticmethod
    def _write_tokens(conn: sqlite3.Connection, patient: Patient) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO patient_name_tokens (token, patient_id) VALUES (?, ?)",
            [(t, patient.patient_id) for t in set(name_tokens(patient.name))],
        )
