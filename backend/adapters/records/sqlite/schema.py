"""Versioned schema. Append a new script to change it; never edit an applied one.

Rows keep the entity as JSON in ``body``; key and index columns beside it.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    """
    CREATE TABLE patients (
        patient_id TEXT PRIMARY KEY,
        phone TEXT,
        created_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX patients_phone ON patients(phone);
    CREATE INDEX patients_created ON patients(created_at DESC, patient_id DESC);
    CREATE TABLE patient_name_tokens (
        token TEXT NOT NULL,
        patient_id TEXT NOT NULL REFERENCES patients(patient_id) ON DELETE CASCADE,
        PRIMARY KEY (token, patient_id)
    ) WITHOUT ROWID;
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        patient_id TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX audit_patient ON audit_log(patient_id, seq DESC);
    CREATE INDEX audit_actor ON audit_log(actor, seq DESC);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TABLE notes (
        patient_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        status TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (patient_id, ts)
    );
    CREATE INDEX notes_updated ON notes(updated_at DESC);
    CREATE TABLE history (
        patient_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (patient_id, ts)
    );
    CREATE TABLE metrics (
        patient_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        day TEXT NOT NULL,
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        n_samples INTEGER NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (patient_id, metric, day)
    ) WITHOUT ROWID;
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL,
        status TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX jobs_patient ON jobs(patient_id, updated_at DESC);
    CREATE INDEX jobs_status ON jobs(status, updated_at);
    CREATE TABLE queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        visible_at REAL NOT NULL,
        receipt TEXT,
        receive_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX queue_visible ON queue(visible_at)
    """,
    """
    CREATE INDEX notes_drafts ON notes(status, updated_at DESC);
    """,
    """
    ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit_log ADD COLUMN hash TEXT;
    CREATE TRIGGER notes_signed_immutable BEFORE UPDATE ON notes WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes are immutable'); END;
    CREATE TRIGGER notes_signed_no_delete BEFORE DELETE ON notes WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes are immutable'); END;
    """,
    """
    CREATE TABLE api_tokens (
        token_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        username TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX api_tokens_user ON api_tokens(username, created_at DESC);
    """,
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        ref TEXT NOT NULL,
        state TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
    """,
    """
    CREATE TABLE inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        visible_at REAL NOT NULL,
        receipt TEXT,
        receive_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX inbox_visible ON inbox(visible_at);
    """,
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        done_at INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    """
    CREATE TABLE shared_state (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX shared_state_expiry ON shared_state(expires_at);
    """,
]
