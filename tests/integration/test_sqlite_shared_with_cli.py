"""The running app keeps its SQLite locks, so a command-line process beside it cannot delete the app's WAL.

SQLite's locks are POSIX record locks, which a process loses on *every* descriptor of the file as soon as it
closes any one of them. The app once re-opened the database file itself (to read its header, deciding the
encryption again) when it built the direct-upload ports, after its connections were open: from then on it held no
lock on the file, a `tokens create` run beside the API deleted the WAL on exit, and the API went on writing into a
deleted file (jobs and audit lines gone at the next start, then "disk I/O error").
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Patient

CLI_OPENS_AND_CLOSES = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1'); c.close()"


def _locked_by_this_process(path: Path) -> bool:
    """Whether this process holds a POSIX lock on ``path`` (Linux: /proc/locks names the inode)."""
    inode = os.stat(path).st_ino
    pid = os.getpid()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "POSIX" in fields and str(pid) in fields and any(f.endswith(f":{inode}") for f in fields):
            return True
    return False


def test_building_the_upload_ports_keeps_the_database_locks(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite", llm="offline"))
    db = app.settings.db_path
    app.stores.patients.add(Patient(patient_id="PAT_before01", name="Before"))
    assert _locked_by_this_process(db)  # a WAL-mode connection holds a shared lock while it is open
    app.upload_deps()  # built lazily, after the stores' connections are open (the first direct upload)
    assert _locked_by_this_process(db)
    subprocess.run([sys.executable, "-c", CLI_OPENS_AND_CLOSES, str(db)], check=True)
    app.stores.patients.add(Patient(patient_id="PAT_after001", name="After"))
    assert db.with_name(db.name + "-wal").exists()
    seen = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
            "\"SELECT COUNT(*) FROM patients WHERE patient_id IN ('PAT_before01', 'PAT_after001')\").fetchone()[0])",
            str(db),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == "2"
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
