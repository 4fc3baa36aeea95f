"""``python -m backend ask --patient ID [--json] "QUESTION"``: ask about one patient at the console, with citations."""

from __future__ import annotations

import argparse
import json
from typing import Any

from backend.domain.models import Role
from backend.services.access import OPERATOR, Principal

# The operator at the console, with a doctor's permissions; audited as "(command line)" with role "operator".
CLI_PRINCIPAL = Principal(OPERATOR, Role.DOCTOR)


def register(sub: Any) -> None:
    parser = sub.add_parser("ask", help="answer a question about one patient from their records, with citations")
    parser.add_argument("--patient", required=True, help="patient ID, e.g. PAT_1a2b3c4d")
    parser.add_argument("--json", action="store_true", help='last line: {"answer": ..., "citations": [...]}')
    parser.add_argument("question", help='e.g. "Is the patient on any blood pressure medicine?"')
    parser.set_defaults(func=_ask)


def _ask(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.services.ask import ask

    app = build_app()
    answer = ask(
        app.stores,
        CLI_PRINCIPAL,
        args.patient,
        args.question,
        cache=app.ask_cache(),  # its zone: the answer names the clinic's days
        metric_passages=app.episodes().metric_passages,
        llm=app.answerer(),
    )
    citations = [
        {"id": c.passage_id, "kind": c.kind, "ref": c.ref, "label": c.label, "snippet": c.snippet}
        for c in answer.citations
    ]
    if args.json:
        print(json.dumps({"answer": answer.text, "citations": citations, "mode": answer.mode}, ensure_ascii=False))
        return 0
    print(answer.text)
    if answer.note:
        print(f"({answer.note})")
    if citations:
        print("\nSources:")
        for i, c in enumerate(citations, start=1):
            print(f"[{i}] {c['label']} — {c['snippet']}")
    return 0
