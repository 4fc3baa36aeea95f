"""``python -m backend purge-audio [--days N] [--dry-run]``: apply the audio retention policy (run it daily)."""

from __future__ import annotations

import argparse
from typing import Any

from backend.domain.models import Role
from backend.services.access import OPERATOR, Principal

# The operator at the console (or the scheduler); audited as "(command line)" with role "operator".
CLI_ADMIN = Principal(OPERATOR, Role.ADMIN)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "purge-audio", help="delete recordings of notes signed longer ago than the retention period"
    )
    parser.add_argument(
        "--days", type=int, default=None, help="retention in days (default: COPILOT_AUDIO_RETENTION_DAYS)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.set_defaults(func=_purge)


def _purge(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.services.retention import purge_audio

    app = build_app()
    days = args.days if args.days is not None else app.settings.audio_retention_days
    report = purge_audio(app.stores, app.blobs, CLI_ADMIN, days, dry_run=args.dry_run)
    verb = "would delete" if report.dry_run else "deleted"
    print(
        f"{verb} {len(report.deleted)} recording(s) of notes signed more than {days} days ago; "
        f"kept {report.kept_in_use} still in use; {report.patients_scanned} patient(s) checked"
    )
    return 0
