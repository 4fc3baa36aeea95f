"""``python -m backend export fhir|summary|visit-summary --patient ID [--out FILE]``: operator exports of one patient."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from backend.domain.models import Role
from backend.services.access import OPERATOR, Principal

# The operator at the console, with a doctor's permissions; audited as "(command line)" with role "operator".
CLI_PRINCIPAL = Principal(OPERATOR, Role.DOCTOR)


def register(sub: Any) -> None:
    parser = sub.add_parser("export", help="export one patient's record (FHIR R4 Bundle or printable HTML summary)")
    kinds = parser.add_subparsers(dest="export_kind", required=True)
    fhir = kinds.add_parser("fhir", help="FHIR R4 collection Bundle as JSON")
    fhir.add_argument("--patient", required=True, help="patient ID, e.g. PAT_1a2b3c4d")
    fhir.add_argument("--out", type=Path, help="output file (default: standard output)")
    fhir.add_argument(
        "--abdm",
        choices=["OPConsultRecord", "PrescriptionRecord"],
        help="instead: one signed note as an ABDM (NRCeS) document Bundle of this record type",
    )
    fhir.add_argument("--note", type=int, help="with --abdm: the note's timestamp (default: the latest signed note)")
    fhir.set_defaults(func=_fhir)
    summary = kinds.add_parser("summary", help="printable HTML patient summary")
    summary.add_argument("--patient", required=True, help="patient ID, e.g. PAT_1a2b3c4d")
    summary.add_argument("--out", type=Path, required=True, help="output .html file")
    summary.set_defaults(func=_summary)
    from backend.cli._visit_summary import register as register_visit_summary

    register_visit_summary(kinds)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written export behind
    print(f"wrote {out}", file=sys.stderr)


def _fhir(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.services.export import export_abdm_record, export_bundle

    app = build_app()
    if args.abdm:
        bundle = export_abdm_record(app.stores, CLI_PRINCIPAL, args.patient, args.abdm, args.note)
    else:
        bundle = export_bundle(app.stores, CLI_PRINCIPAL, args.patient)
    _write(json.dumps(bundle, indent=2, ensure_ascii=False), args.out)
    return 0


def _summary(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.services.export import summary_html

    app = build_app()
    _write(summary_html(app.stores, CLI_PRINCIPAL, args.patient, tz=app.settings.clinic_tz()), args.out)
    return 0
