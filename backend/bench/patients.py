"""Register N patients in a fresh SQLite store, then time search by name fragment and by phone."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from backend.adapters.records.sqlite import open_sqlite_store
from backend.bench._timing import summary
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient, search_patients

TARGET_MEDIAN_MS = 20.0
_FIRST = [
    "Ram",
    "Sita",
    "Arjun",
    "Priya",
    "Mohammed",
    "Lakshmi",
    "Rahul",
    "Fatima",
    "Suresh",
    "Anita",
    "Gurpreet",
    "Meena",
    "Joseph",
    "Kavya",
    "Vikram",
    "Sunita",
    "Harish",
    "Neha",
    "Abdul",
    "Deepa",
    "Aarav",
    "Ishaan",
    "Zoya",
    "Rohan",
]
_LAST = [
    "Kumar",
    "Devi",
    "Sharma",
    "Nair",
    "Iqbal",
    "Iyer",
    "Verma",
    "Begum",
    "Reddy",
    "Desai",
    "Singh",
    "Kumari",
    "DSouza",
    "Menon",
    "Patel",
    "Yadav",
    "Rao",
    "Gupta",
    "Rahman",
    "Pillai",
    "Bose",
    "Chatterjee",
    "Khan",
    "Joshi",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(1)
    nurse = Principal("bench", Role.NURSE)
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "bench.sqlite3")
        phones = []
        t0 = time.perf_counter()
        for _ in range(args.patients):
            phone = f"9{rng.randrange(10**8, 10**9)}"
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {rng.choice(_FIRST)[:3]}{rng.randrange(1000)}"
            register_patient(stores, nurse, PatientInput(name=name, phone=phone))
            phones.append(phone)
        register_s = time.perf_counter() - t0
        name_ms, phone_ms = [], []
        for _ in range(args.queries):
            fragment = f"{rng.choice(_FIRST)[:3]} {rng.choice(_LAST)[:2]}"
            t = time.perf_counter()
            search_patients(stores, nurse, fragment)
            name_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            found = search_patients(stores, nurse, rng.choice(phones))
            phone_ms.append((time.perf_counter() - t) * 1000)
            assert found, "a registered phone must be found"
    by_name, by_phone = summary(name_ms), summary(phone_ms)
    return {
        "patients": args.patients,
        "register_per_s": round(args.patients / register_s, 1),
        "search_name": by_name,
        "search_phone": by_phone,
        "target_median_ms": TARGET_MEDIAN_MS,
        "pass": by_name["median_ms"] <= TARGET_MEDIAN_MS and by_phone["median_ms"] <= TARGET_MEDIAN_MS,
    }
