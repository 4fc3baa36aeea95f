"""Command line: ``python -m backend <command> ...``.

Each module in ``backend/cli`` exposes ``register(subparsers)`` and sets
``func`` on its parser; commands are discovered, so a new command is a new file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from backend import cli
from backend.domain.errors import CopilotError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command of ``backend/cli``."""
    parser = argparse.ArgumentParser(prog="python -m backend", description="Clinical Co-Pilot command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(cli.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"backend.cli.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; domain errors print a message, not a trace."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CopilotError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
