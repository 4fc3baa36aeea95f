"""``python -m backend tokens create|list|revoke``: personal API tokens, as the machine's operator (audited)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from backend import bootstrap
from backend.domain.clock_format import moment_text
from backend.services import api_tokens


def register(sub: Any) -> None:
    parser = sub.add_parser("tokens", help="personal API tokens for the REST API")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a token for a user (printed once)")
    create.add_argument("username")
    create.add_argument("--days", type=int, default=None, help="lifetime in days (default COPILOT_API_TOKEN_DAYS)")
    create.add_argument("--label", default="", help="what the token is for, e.g. 'clinic tablet'")
    create.add_argument("--json", action="store_true", help='print {"token": ..., "token_id": ..., ...}')
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--user", default=None, help="only this user's tokens")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    revoke = actions.add_parser("revoke", help="revoke a token by its id (TOK_...)")
    revoke.add_argument("token_id")
    revoke.set_defaults(func=_revoke)


def _day(ms: int | None, tz: tzinfo) -> str:
    return moment_text(ms, tz) if ms else "-"


def _create(args: argparse.Namespace) -> int:
    app = bootstrap.build_app()
    days = args.days if args.days is not None else app.settings.api_token_days
    issued = api_tokens.create_token(app.stores, None, args.username, days=days, label=args.label)
    rec = issued.record
    if args.json:
        print(
            json.dumps(
                {
                    "token": issued.token,
                    "token_id": rec.token_id,
                    "username": rec.username,
                    "role": rec.role.value,
                    "expires_at": rec.expires_at,
                }
            )
        )
    else:
        print(issued.token)
        print(
            f"{rec.token_id} for {rec.username} ({rec.role.value}), expires {_day(rec.expires_at, app.settings.clinic_tz())}."
        )
        print("Keep it like a password: it is shown only now.")
    return 0


def _list(args: argparse.Namespace) -> int:
    app = bootstrap.build_app()
    found = api_tokens.list_tokens(app.stores, None, args.user)
    tz = app.settings.clinic_tz()
    if args.json:
        print(json.dumps([t.model_dump(mode="json", exclude={"secret_hash"}) for t in found]))
        return 0
    for t in found:
        state = "revoked" if t.revoked_at else "expired" if not t.usable_at(_now_ms()) else "active"
        print(f"{t.token_id}  {t.username:20} {t.role.value:7} {state:8} expires {_day(t.expires_at, tz)}  {t.label}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    token = api_tokens.revoke_token(bootstrap.build_app().stores, None, args.token_id)
    print(f"revoked {token.token_id} of {token.username}")
    return 0


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
