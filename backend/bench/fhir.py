"""FHIR R4 export of a big patient (500 notes, 200 documents, 2 years of metrics): old vs new path, same run.

Old: the plain Bundle validated by ``fhir.resources`` and dumped by the library (``model_dump``). New: the same
validation, then :func:`backend.formats.fhir_dump.dump`; and a second export of the unchanged record through the
per-process cache. Both outputs are compared byte for byte (``json.dumps(indent=1)``, as the page writes them).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from backend.adapters.records.sqlite import open_sqlite_store
from backend.bench.timeline import PID
from backend.bench.timeline import _seed as seed_patient  # the same patient the timeline bench times
from backend.domain.models import NoteStatus, Role
from backend.domain.reconcile import reconcile
from backend.formats.fhir_dump import dump
from backend.formats.fhir_r4 import bundle_data
from backend.services.access import Principal
from backend.services.export import export_bundle
from backend.services.fhir_cache import FhirBundleCache
from backend.services.timeline import all_history, all_notes, medication_sources

DOCTOR = Principal("bench", Role.DOCTOR)
GENERATED = 1_735_689_600_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, round((time.perf_counter() - t0) * 1000, 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "bench.sqlite3")
        seed_patient(stores, args.notes, args.documents, args.days)

        def plain() -> dict[str, Any]:
            notes = all_notes(stores, PID)
            meds = reconcile(medication_sources(notes, all_history(stores, PID)))
            signed = [n for n in notes if n.status is NoteStatus.SIGNED]
            return bundle_data(stores.patients.get(PID), signed, meds, stores.metrics.days(PID), GENERATED)

        data, read_build_ms = _timed(plain)
        model, validate_ms = _timed(lambda: Bundle.model_validate(data))
        old, library_dump_ms = _timed(lambda: model.model_dump(mode="json"))
        new, fast_dump_ms = _timed(lambda: dump(model))
        identical = json.dumps(old, indent=1) == json.dumps(new, indent=1)
        cache = FhirBundleCache()
        _, first_ms = _timed(lambda: export_bundle(stores, DOCTOR, PID, cache))
        _, cached_ms = _timed(lambda: export_bundle(stores, DOCTOR, PID, cache))
    old_ms = read_build_ms + validate_ms + library_dump_ms
    return {
        "notes": args.notes,
        "documents": args.documents,
        "entries": len(data["entry"]),
        "read_and_build_ms": read_build_ms,
        "validate_ms": validate_ms,
        "library_dump_ms": library_dump_ms,
        "fast_dump_ms": fast_dump_ms,
        "old_export_ms": round(old_ms, 1),
        "new_export_first_ms": first_ms,
        "new_export_unchanged_ms": cached_ms,
        "validations_in_two_exports": cache.builds,
        "identical_output": identical,
        "pass": identical and cache.builds == 1,
    }
