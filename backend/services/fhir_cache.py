"""Validated FHIR R4 bundles kept per patient while the patient's records give the same entries.

Validating a Bundle of a patient with hundreds of notes and years of metrics takes seconds; building its plain
entries from the records takes a fraction of that. The key is a digest of those entries, so any change that
changes the export (a note signed or amended, a confirmed ICD-10 code, a medication, a metric value, the
patient's details) is a miss by construction, and an unchanged record is a hit however it was reached.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


def entries_digest(entries: list[dict[str, Any]]) -> str:
    """A digest of the Bundle's entries (plain data built in a fixed order, so no key sorting is needed)."""
    text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FhirBundleCache:
    """Per-process, per-patient validated bundles (LRU, thread-safe). Build one per process (``App.fhir_cache``).

    A bundle it returns is shared: read it, never change it.
    """

    max_patients: int = 4  # a patient with 500 notes and 2 years of metrics: about 13 MB as Python objects
    builds: int = 0  # bundles validated (misses), for tests and benches
    _items: OrderedDict[str, tuple[str, dict[str, Any]]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, patient_id: str, digest: str) -> dict[str, Any] | None:
        """The bundle stored for the patient with these entries, else None."""
        with self._lock:
            hit = self._items.get(patient_id)
            if hit is None or hit[0] != digest:
                return None
            self._items.move_to_end(patient_id)
            return hit[1]

    def put(self, patient_id: str, digest: str, bundle: dict[str, Any]) -> None:
        """Keep ``bundle`` as the patient's (replacing an older one), dropping the least recently used patient."""
        with self._lock:
            self.builds += 1
            self._items[patient_id] = (digest, bundle)
            self._items.move_to_end(patient_id)
            while len(self._items) > self.max_patients:
                self._items.popitem(last=False)
