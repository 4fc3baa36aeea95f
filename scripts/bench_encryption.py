"""What encryption at rest costs: blob throughput, record writes and reads, plain vs encrypted (not a timed test).

Runs in a throw-away folder: a seeded random recording through the local blob store (put, get, streamed put),
then patients written one transaction each and read back by key through the SQLite record store, each plain
and with a data key. Prints medians of a few rounds; timings on a shared machine are inflated, compare the
two columns rather than the absolute numbers.

    .venv/bin/python scripts/bench_encryption.py [--mb 64] [--patients 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.adapters.blobs.local import LocalBlobStore
from backend.adapters.crypto import BlobCipher, DataKey
from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.models import Patient
from backend.ports import RecordStore


def _median(rounds: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = random.Random(16).randbytes(args.mb * 1024 * 1024)
    key = DataKey.generate()
    print(f"{'':34s}{'plain':>10s}{'encrypted':>12s}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stores = {
            "plain": LocalBlobStore(root / "plain"),
            "encrypted": LocalBlobStore(root / "encrypted", BlobCipher(key)),
        }
        rates: dict[str, list[float]] = {"put": [], "put_stream": [], "get": []}
        sizes: dict[str, int] = {}
        for name, store in stores.items():
            keys: list[str] = []

            def put(store: LocalBlobStore = store, keys: list[str] = keys) -> None:
                for path in store.root.rglob("*"):
                    if path.is_file():
                        path.unlink()
                keys.append(store.put(data, prefix="audio"))

            def put_stream(store: LocalBlobStore = store) -> None:
                for path in store.root.rglob("*"):
                    if path.is_file():
                        path.unlink()
                store.put_stream(io.BytesIO(data), prefix="audio")

            rates["put"].append(args.mb / _median(args.rounds, put))
            rates["put_stream"].append(args.mb / _median(args.rounds, put_stream))

            def get(store: LocalBlobStore = store, keys: list[str] = keys) -> None:
                store.get(keys[-1])

            rates["get"].append(args.mb / _median(args.rounds, get))
            sizes[name] = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
        for op, (plain, enc) in rates.items():
            print(f"blob {op:10s} ({args.mb} MiB), MB/s      {plain:10.0f}{enc:12.0f}")
        print(f"blob file size, bytes               {sizes['plain']:10,d}{sizes['encrypted']:12,d}")

        cols: dict[str, list[float]] = {"write": [], "read": []}
        for name, data_key in (("plain", None), ("encrypted", key)):
            records = open_sqlite_store(root / f"{name}.sqlite3", data_key)
            ids = [f"PAT_{i:08x}" for i in range(args.patients)]
            start = time.perf_counter()
            for pid in ids:
                records.patients.add(Patient(patient_id=pid, name=f"Patient {pid}", created_by="bench"))
            cols["write"].append(args.patients / (time.perf_counter() - start))

            def read(records: RecordStore = records, ids: list[str] = ids) -> None:
                for pid in ids:
                    records.patients.get(pid)

            cols["read"].append(args.patients / _median(args.rounds, read))
        for op, (plain, enc) in cols.items():
            print(f"patients {op:5s} ({args.patients}), per second    {plain:10.0f}{enc:12.0f}")


if __name__ == "__main__":
    main()
