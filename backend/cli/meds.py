"""``python -m backend meds parse [--json]``: medication lines on stdin -> structured medications.

One input line, one output: a line that names no drug gives ``null``. With ``--json`` the last line printed is a
JSON list aligned with the input lines; each object has ``name``, ``verbatim``, ``strength``, ``form``, ``route``,
``frequency``, ``duration``, ``instructions``, ``verified`` (the name is a known drug) and ``flags`` (why a field
is uncertain: OCR letters read as digits, a strength the drug is not made in, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from backend.domain.models import Medication

FIELDS = ("name", "verbatim", "strength", "form", "route", "frequency", "duration", "instructions", "verified", "flags")


def register(sub: Any) -> None:
    parser = sub.add_parser("meds", help="medication tools")
    tools = parser.add_subparsers(dest="meds_command", required=True)
    parse = tools.add_parser("parse", help="parse medication lines read from stdin")
    parse.add_argument("--json", action="store_true", help="print one JSON list (aligned with the input) last")
    parse.set_defaults(func=run_parse)


def as_json(med: Medication | None) -> dict[str, Any] | None:
    """The fields of one parsed line (``None`` stays ``None``)."""
    if med is None:
        return None
    data = med.model_dump(include=set(FIELDS))
    return {k: data[k] for k in FIELDS}


def run_parse(args: argparse.Namespace) -> int:
    from backend.domain.medications import parse_line

    results = [as_json(parse_line(line.rstrip("\r\n"))) for line in sys.stdin]
    for i, item in enumerate(results, start=1):
        if item is None:
            print(f"{i:>3}  -")
            continue
        parts = [item["name"], item["strength"], item["form"], item["route"], item["frequency"], item["duration"]]
        line = " · ".join(str(p) for p in parts if p)
        mark = "" if item["verified"] else "  [unverified]"
        print(f"{i:>3}  {line}{mark}")
        for flag in item["flags"]:
            print(f"     ! {flag}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0
