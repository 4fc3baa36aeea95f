"""What the page's process does for a health-data import and for a question, inline vs with the worker.

A seeded 60-day Apple Health export.zip: importing it inline (what the page did) against submitting it (what
the page does now: checks, store, queue) and the worker's import job. A patient with many notes and documents:
a question that builds the full Ask index inline (what the page did on a cold cache), one on a cache the
background builder owns (the page reads; a missing index is answered from the newest records), and one once
the builder has built it. Figures only, never a test: timings are inflated on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from backend.bench._timing import measure_ms, summary
from backend.bench.import_memory import generate_export
from backend.bench.timeline import PID as ASK_PID
from backend.bench.timeline import _seed
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Patient, Role, User
from backend.services.access import Principal
from backend.services.ask import AskIndexCache, ask
from backend.services.ask_index import refresh_index
from backend.services.metrics import import_metrics
from backend.services.metrics_jobs import process_metrics_job, submit_import

NURSE = Principal("bench-nurse", Role.NURSE)
DOCTOR = Principal("bench-doctor", Role.DOCTOR)
IMPORT_PID = "PAT_0000be7c"
QUESTION = "Was pantoprazole stopped?"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=60, help="days in the generated Apple Health export (60)")
    parser.add_argument("--notes", type=int, default=500, help="notes of the Ask patient (500)")
    parser.add_argument("--documents", type=int, default=200, help="documents of the Ask patient (200)")
    parser.add_argument("--repeats", type=int, default=3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data, xml_bytes, _ = generate_export(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store="sqlite", blobs="local", queue="sqlite", llm="offline")
        app = build_app(settings)
        stores, deps = app.stores, app.metrics_job_deps()
        stores.users.add(User(username=NURSE.username, role=NURSE.role, password_hash="!"))  # noqa: S106 (no password: the worker only reads the role)
        stores.patients.add(Patient(patient_id=IMPORT_PID, name="Bench Import"))
        inline = measure_ms(lambda: import_metrics(NURSE, stores, app.blobs, IMPORT_PID, data, "export.zip"), 1)
        jobs: list[str] = []
        submit = measure_ms(lambda: jobs.append(submit_import(deps, NURSE, IMPORT_PID, data, "export.zip").job_id), 1)
        worker = measure_ms(lambda: process_metrics_job(deps, jobs[0]), 1)

        _seed(stores, args.notes, args.documents, 730)
        cold = measure_ms(lambda: ask(stores, DOCTOR, ASK_PID, QUESTION, cache=AskIndexCache()), args.repeats)

        def background_cache() -> AskIndexCache:
            cache = AskIndexCache()
            cache.refreshed_in_background = True
            return cache

        missing = measure_ms(lambda: ask(stores, DOCTOR, ASK_PID, QUESTION, cache=background_cache()), args.repeats)
        built = background_cache()
        build = measure_ms(lambda: refresh_index(stores, ASK_PID, AskIndexCache()), args.repeats)
        refresh_index(stores, ASK_PID, built)
        warm = measure_ms(lambda: ask(stores, DOCTOR, ASK_PID, QUESTION, cache=built), args.repeats * 3)
    return {
        "apple_export_days": args.days,
        "apple_xml_mb": round(xml_bytes / 1024**2, 1),
        "page_import_inline_ms": round(inline[0]),
        "page_import_submit_ms": round(submit[0]),
        "worker_import_job_ms": round(worker[0]),
        "ask_notes": args.notes,
        "ask_documents": args.documents,
        "page_ask_inline_build": summary(cold),
        "page_ask_index_missing": summary(missing),
        "builder_full_index": summary(build),
        "page_ask_index_built": summary(warm),
    }
