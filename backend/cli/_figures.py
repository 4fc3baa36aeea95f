"""Shared runner for ``eval`` and ``bench`` kinds: discovery, table printing, ``--json``."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from types import ModuleType
from typing import Any


def discover(package: ModuleType) -> dict[str, ModuleType]:
    """Modules of ``package`` that expose ``add_arguments`` and ``run``, by name."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "add_arguments") and hasattr(module, "run"):
            found[info.name] = module
    return found


def register_kinds(sub: Any, command: str, help_text: str, package: ModuleType) -> None:
    """Add ``command <kind>`` subcommands, one per discovered module."""
    parser = sub.add_parser(command, help=help_text)
    kinds = parser.add_subparsers(dest="kind", required=True)
    for name, module in sorted(discover(package).items()):
        kind_parser = kinds.add_parser(
            name,
            aliases=[name.replace("_", "-")] if "_" in name else [],  # `bench clinic-day` as well as clinic_day
            help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None,
        )
        kind_parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        module.add_arguments(kind_parser)
        kind_parser.set_defaults(func=_runner(module))


def _runner(module: ModuleType) -> Any:
    def run(args: argparse.Namespace) -> int:
        result: dict[str, Any] = module.run(args)
        print_table(result)
        if args.json:
            print(json.dumps(result, default=str))
        return 0

    return run


def print_table(result: dict[str, Any], indent: str = "") -> None:
    """Print a result dict as aligned ``key  value`` lines (nested dicts indented)."""
    width = max((len(str(k)) for k in result), default=0)
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            print_table(value, indent + "  ")
        elif isinstance(value, float):
            print(f"{indent}{str(key).ljust(width)}  {value:.4g}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{indent}{key}: ({len(value)} rows)")
        else:
            print(f"{indent}{str(key).ljust(width)}  {value}")
