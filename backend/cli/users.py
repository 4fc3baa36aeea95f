"""``python -m backend users add|passwd|list|disable|enable``: local accounts."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from backend import bootstrap
from backend.domain.models import AuditEvent, Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.access import OPERATOR, OPERATOR_ROLE

# The audit actor for the machine's operator; parentheses cannot occur in a username.
CLI_ACTOR = OPERATOR


def register(sub: Any) -> None:
    parser = sub.add_parser("users", help="manage local user accounts")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--name", default="", help="display name")
    add.set_defaults(func=_add)
    passwd = actions.add_parser("passwd", help="set a user's password")
    passwd.add_argument("username")
    passwd.set_defaults(func=_passwd)
    actions.add_parser("list", help="list users").set_defaults(func=_list)
    for name, disabled in (("disable", True), ("enable", False)):
        p = actions.add_parser(name, help=f"{name} a user")
        p.add_argument("username")
        p.set_defaults(func=_toggle, disabled=disabled)


def _password() -> str:
    # Non-interactive use (scripts, CI) passes the password through the environment, never argv.
    if os.environ.get("COPILOT_NEW_PASSWORD"):
        return os.environ["COPILOT_NEW_PASSWORD"]
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("error: the passwords differ")
    return first


def _audit(stores: RecordStore, action: str, detail: str) -> None:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        user = "?"
    stores.audit.append(
        AuditEvent(actor=CLI_ACTOR, role=OPERATOR_ROLE, action=action, detail=f"{detail} (os user {user})")
    )


def _add(args: argparse.Namespace) -> int:
    # The CLI acts as the machine's operator (it can read the data dir anyway), hence no signed-in actor.
    stores = bootstrap.build_app().stores
    created = auth.add_user(stores, args.username, _password(), Role(args.role), args.name)
    _audit(stores, "user.create", f"{created.username} ({created.role.value})")
    print(f"created {created.username} ({created.role.value})")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    stores = bootstrap.build_app().stores
    auth.set_password(stores, None, args.username, _password())
    _audit(stores, "user.password", args.username)
    print(f"password set for {args.username}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for u in auth.list_users(bootstrap.build_app().stores, None):
        state = "disabled" if u.disabled else "active"
        print(f"{u.username:20} {u.role.value:7} {state:8} {u.display_name}")
    return 0


def _toggle(args: argparse.Namespace) -> int:
    stores = bootstrap.build_app().stores
    auth.set_disabled(stores, None, args.username, args.disabled)
    _audit(stores, "user.disable" if args.disabled else "user.enable", args.username)
    print(f"{args.username} {'disabled' if args.disabled else 'enabled'}")
    return 0
