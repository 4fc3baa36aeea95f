"""``python -m backend export visit-summary --patient ID [--note TS] --lang hi|en --out FILE``.

The patient's after-visit summary of a signed note (the latest one without ``--note``), as PDF or HTML by the
extension of ``--out``. A draft is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def register(kinds: Any) -> None:
    """Add ``visit-summary`` to the ``export`` subcommands (domain errors print as ``error: ...``, exit 2)."""
    parser = kinds.add_parser("visit-summary", help="the patient's after-visit summary of a signed note (PDF or HTML)")
    parser.add_argument("--patient", required=True, help="patient ID, e.g. PAT_1a2b3c4d")
    parser.add_argument("--note", type=int, help="timestamp of the note (default: the latest signed note)")
    parser.add_argument("--lang", default="en", help="language of the summary: en, hi (unknown: English)")
    parser.add_argument("--out", type=Path, required=True, help="output file: .pdf or .html")
    parser.set_defaults(func=_visit_summary)


def _visit_summary(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.cli.export import CLI_PRINCIPAL
    from backend.services.visit_summary import visit_summary

    fmt = _FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        print(f"error: --out must end in .pdf or .html (got {args.out.name!r})", file=sys.stderr)
        return 2
    app = build_app()
    made = visit_summary(
        app.stores,
        CLI_PRINCIPAL,
        args.patient,
        args.lang,
        fmt,
        args.note,
        pdf=app.summary_pdf(),
        tz=app.settings.clinic_tz(),
    )
    for notice in made.summary.notices:
        print(f"notice: {notice}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(made.content)
    tmp.replace(args.out)  # never leave a half-written summary behind
    print(f"wrote {args.out} (note {made.note_timestamp}, {made.summary.language.code})", file=sys.stderr)
    return 0
