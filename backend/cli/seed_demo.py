"""``python -m backend seed-demo``: idempotent demo data, only in a new or demo database."""

from __future__ import annotations

import argparse
from typing import Any

from backend import bootstrap
from backend.services.demo import seed_demo


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "seed-demo",
        help="create demo accounts, patients, notes and wearable data (idempotent; refuses a database with real data)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    app = bootstrap.build_app()
    created = seed_demo(app.stores, metrics_for=demo_metrics_writer(app))
    print(f"demo data ready ({created} new patient(s))")
    return 0


def demo_metrics_writer(app: Any) -> Any:
    """Writes synthetic wearable days for each new demo patient."""
    from backend.services.demo_metrics import write_demo_metrics

    return lambda patient_id, seed: write_demo_metrics(app.stores, patient_id, seed)
