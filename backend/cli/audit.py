"""``python -m backend audit verify``: walk the audit trail's hash chain and report the first broken link."""

from __future__ import annotations

import argparse
from typing import Any

from backend.domain.models import Role
from backend.services.access import OPERATOR, Principal

# The operator at the console; the check is audited as "(command line)" with role "operator".
CLI_ADMIN = Principal(OPERATOR, Role.ADMIN)


def register(sub: Any) -> None:
    parser = sub.add_parser("audit", help="check the audit trail")
    actions = parser.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="walk the hash chain; exit 1 at the first broken link")
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.services.audit_verify import verify_audit_chain

    report = verify_audit_chain(build_app().stores, CLI_ADMIN)
    before = f" ({report.before_chain} before the chain)" if report.before_chain else ""
    if report.intact:
        print(f"{report.rows} rows{before}, chain intact")
        return 0
    print(f"chain broken at row {report.broken_at}: {report.reason}; {report.rows} rows read{before}")
    return 1
