"""``python -m backend blobs orphans [--delete] [--grace-hours N]``: stored files that no record names.

A file no record names is PHI nobody can find, review or purge: a write that failed before the clean-up
existed, a crash between storing a file and writing its record, an old health-data import. The command lists
them (key, size, age) and, with ``--delete``, deletes them, one audit line each. A file younger than the grace
period is never touched: its upload may still be on its way to its record. Every use is gathered by the
retention census (``backend.services.retention.blobs_in_use``), after the files are listed, so a record
written meanwhile is seen.

Local blob folders only: on S3 the bucket's lifecycle rules and versioning do this job.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.domain.errors import NotFound
from backend.domain.models import Role
from backend.services.access import OPERATOR, Principal, record

# The operator at the console; each deletion is audited as "(command line)" with role "operator".
CLI_ADMIN = Principal(OPERATOR, Role.ADMIN)
DEFAULT_GRACE_HOURS = 24.0

if TYPE_CHECKING:
    from backend.bootstrap import App


@dataclass(frozen=True)
class Orphan:
    """A stored file no record names."""

    key: str
    size: int
    age_s: float


@dataclass
class OrphanScan:
    """What a scan found: the orphans, and how many unnamed files were kept as too young to judge."""

    orphans: list[Orphan]
    too_young: int
    files: int


def register(sub: Any) -> None:
    parser = sub.add_parser("blobs", help="stored files (recordings, documents)")
    actions = parser.add_subparsers(dest="action", required=True)
    orphans = actions.add_parser("orphans", help="list (or delete) stored files that no record names")
    orphans.add_argument("--delete", action="store_true", help="delete them (each deletion is audited)")
    orphans.add_argument(
        "--grace-hours",
        type=float,
        default=DEFAULT_GRACE_HOURS,
        help=f"leave files younger than this alone: uploads in flight (default {DEFAULT_GRACE_HOURS:g})",
    )
    orphans.set_defaults(func=_orphans)


def scan_orphans(app: App, *, grace_s: float, now: float | None = None) -> OrphanScan:
    """Stored files of ``app``'s local blob folder that no record names and are older than ``grace_s``.

    Raises:
        NotFound: the blob store is not a local folder.
    """
    from backend.adapters.blobs.local import LocalBlobStore, check_key
    from backend.services.retention import blobs_in_use

    if not isinstance(app.blobs, LocalBlobStore):
        raise NotFound("Only a local blob folder can be scanned; on S3 use the bucket's lifecycle rules.")
    root = app.blobs.root
    now = time.time() if now is None else now
    listed: list[tuple[str, int, float]] = []
    for path in root.rglob("*"):
        key = path.relative_to(root).as_posix()
        if not path.is_file() or key.startswith("."):
            continue  # ".incoming": a stream being stored right now
        try:
            check_key(key)
        except NotFound:
            continue  # not a file the app stored: not ours to judge
        stat = path.stat()
        listed.append((key, stat.st_size, now - stat.st_mtime))
    named = blobs_in_use(app.stores)  # after the listing: a record written meanwhile is seen
    unnamed = [(k, size, age) for k, size, age in listed if k not in named]
    orphans = [Orphan(k, size, age) for k, size, age in unnamed if age >= grace_s]
    return OrphanScan(
        orphans=sorted(orphans, key=lambda o: o.key), too_young=len(unnamed) - len(orphans), files=len(listed)
    )


def delete_orphans(app: App, scan: OrphanScan) -> list[str]:
    """Delete the scan's orphans that are still unnamed now (re-checked), one audit line each; the keys deleted."""
    from backend.services.retention import blobs_in_use

    named = blobs_in_use(app.stores)
    deleted: list[str] = []
    for orphan in scan.orphans:
        if orphan.key in named:
            continue
        app.blobs.delete(orphan.key)
        record(app.stores.audit, CLI_ADMIN, "blobs.delete_orphan", None, f"{orphan.key} {orphan.size} bytes")
        deleted.append(orphan.key)
    return deleted


def _orphans(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app

    app = build_app()
    scan = scan_orphans(app, grace_s=args.grace_hours * 3600)
    for orphan in scan.orphans:
        print(f"{orphan.key}\t{orphan.size} bytes\t{orphan.age_s / 86400:.1f} days old")
    young = f"; {scan.too_young} younger than {args.grace_hours:g} h left alone" if scan.too_young else ""
    if not args.delete:
        print(f"{len(scan.orphans)} of {scan.files} stored file(s) named by no record{young}")
        return 0
    deleted = delete_orphans(app, scan)
    print(f"deleted {len(deleted)} of {scan.files} stored file(s), named by no record{young}")
    return 0
