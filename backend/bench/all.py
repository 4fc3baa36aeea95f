"""Run every benchmark with its defaults, print one table, write the results to a JSON file."""

from __future__ import annotations

import argparse
import json
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend import bench
from backend.cli._figures import discover


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip", nargs="*", default=[], help="benchmarks to leave out")
    parser.add_argument("--only", nargs="*", default=[], help="run just these")
    parser.add_argument("--out", type=Path, default=Path("bench-results/latest.json"))


def _defaults(module: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    module.add_arguments(parser)
    return parser.parse_args([])


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, module in sorted(discover(bench).items()):
        if name == "all" or name in args.skip or (args.only and name not in args.only):
            continue
        started = time.perf_counter()
        try:
            figures = module.run(_defaults(module))
        except Exception as e:  # a broken benchmark is reported, the others still run
            figures = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}
        figures["wall_s"] = round(time.perf_counter() - started, 1)
        results[name] = figures
        print(f"[{name}] done in {figures['wall_s']} s", flush=True)
    report = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "results": results, "summary": _summary(results)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return {"summary": report["summary"], "written_to": str(args.out)}


def _summary(results: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, figures in results.items():
        if "error" in figures:
            out[name] = "ERROR " + figures["error"][:80]
        elif "pass" in figures:
            out[name] = "pass" if figures["pass"] else "short"
        else:
            out[name] = "measured"
    return out
