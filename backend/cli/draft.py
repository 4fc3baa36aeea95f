"""``python -m backend draft --audio FILE | --transcript FILE [--json]``: the scribe pipeline on one input.

Runs exactly what a recording goes through in the app (decode, transcribe, speaker roles, drug-name recovery,
draft) with the engines the settings choose, and prints the note; ``--json`` prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from backend.domain.errors import UnsupportedInput


def register(sub: Any) -> None:
    parser = sub.add_parser("draft", help="draft a note from a recording or a transcript (the app's pipeline)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--audio", type=Path, help="a recording (wav, mp3, m4a, ogg, webm, flac ...)")
    source.add_argument("--transcript", type=Path, help="a text file, one turn per line, [doctor]/[patient] optional")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.adapters.audio.pyav_codec import PyAvCodec
    from backend.adapters.speech.whisper_language import recording_warnings
    from backend.bootstrap import build_app
    from backend.services.draft_report import heard_from_audio, heard_from_text, report

    path: Path = args.audio or args.transcript
    if not path.is_file():
        raise UnsupportedInput(f"{path} is not a file.")
    app = build_app()
    if args.audio:
        heard, warnings, _seconds = heard_from_audio(
            path.read_bytes(), PyAvCodec(), app.speech().transcriber, recording_warnings, app.limits
        )
    else:
        heard, warnings = heard_from_text(path.read_text(encoding="utf-8", errors="replace")), []
    out = report(heard, app.drafter(), warnings)
    print(out["note_text"])
    for warning in out["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return 0
