"""Thin, exact-match adapter over the ``drug-named-entity-recognition`` dictionary.

The package ships ~107k name variants (generics, US/UK brands, synonyms) of ~20k drugs,
mapped to a canonical (US-style) name. Only exact lookups are used: the package's own
fuzzy mode crashes on some inputs and maps unknown brands to unrelated drugs.

Importing the package builds a trigram index for that fuzzy mode (~1.8 s, ~370 MB);
we only need the variant -> canonical tables, so we read the package's bundled
dictionary file directly (~0.5 s, ~60 MB) and fall back to the package import if the
file is not where we expect it. Loaded lazily, once per process, under a lock.
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle  # nosec B403 - only the installed package's own bundled data file is unpickled
import threading
from pathlib import Path
from typing import Any

_DATA_FILE = "drug_ner_dictionary.pkl.bz2"
_lock = threading.Lock()
_tables: dict[str, dict[str, Any]] | None = None


def _load() -> dict[str, dict[str, Any]]:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / _DATA_FILE
        if path.is_file():
            with bz2.open(path, "rb") as f:
                data: dict[str, dict[str, Any]] = pickle.load(f)  # noqa: S301  # nosec B301 - trusted package data
            return data
    # The package layout changed: use its public module (slower, but the same tables).
    from drug_named_entity_recognition import drugs_finder

    return {
        "drug_variant_to_canonical": drugs_finder.drug_variant_to_canonical,
        "drug_canonical_to_data": drugs_finder.drug_canonical_to_data,
    }


def tables() -> dict[str, dict[str, Any]]:
    """The dictionary tables, loading them on first use (thread-safe, once per process)."""
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = _load()
    return _tables


def warm_up() -> None:
    """Load the dictionary now (call from a background thread at start-up)."""
    tables()


def canonicals(name: str) -> list[str]:
    """Canonical names of an exact (case-insensitive) variant, or ``[]`` when unknown."""
    found = tables()["drug_variant_to_canonical"].get(name.lower())
    return list(found) if found else []


def is_variant(name: str) -> bool:
    """True when ``name`` (lower case) is a variant in the dictionary."""
    return name in tables()["drug_variant_to_canonical"]


def drugbank_id(canonical: str) -> str | None:
    """DrugBank id of a canonical name, when the dictionary has one."""
    data = tables()["drug_canonical_to_data"].get(canonical) or {}
    value = data.get("drugbank_id")
    return str(value) if value else None
