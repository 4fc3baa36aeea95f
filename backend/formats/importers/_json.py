"""JSON uploads read in bounded memory: the document's shape first, then its records one at a time.

:func:`json_shape` walks the whole file with ijson's C parser keeping only the top-level keys (and a
top-level ``resourceType``), so an importer can decide how to stream before it reads anything else:
a FHIR Bundle's ``entry`` items or an Ultrahuman backfill's days come out one by one. Shapes that
cannot be streamed that way (a single response, a list) are parsed whole, and only up to
:data:`MAX_JSON_BYTES`: a parsed document takes about 6.5 times its size in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import ijson  # type: ignore[import-untyped]

from backend.domain.errors import UnsupportedInput

MAX_JSON_BYTES = 64 * 1024**2
MAX_TOP_LEVEL_KEYS = 100_000  # an Ultrahuman backfill has one key a day


@dataclass(frozen=True)
class JsonShape:
    """What the top level of a JSON document is."""

    kind: str  # "object", "array" or "scalar"
    keys: tuple[str, ...] = ()
    resource_type: str | None = None


def _invalid(e: Exception, what: str) -> UnsupportedInput:
    return UnsupportedInput(f"This file is not valid JSON ({str(e)[:80]}). Upload {what}.")


def json_shape(stream: BinaryIO, what: str) -> JsonShape:
    """The top-level shape of the JSON in ``stream`` (rewound afterwards).

    Raises:
        UnsupportedInput: not valid JSON (``what`` says what to upload instead), or absurdly many top-level keys.
    """
    stream.seek(0)
    kind: str | None = None
    keys: list[str] = []
    resource_type: str | None = None
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if kind is None:
                kind = {"start_map": "object", "start_array": "array"}.get(event, "scalar")
                if kind != "object":
                    break
            elif prefix == "" and event == "map_key":
                keys.append(str(value))
                if len(keys) > MAX_TOP_LEVEL_KEYS:
                    raise UnsupportedInput(f"This JSON has more than {MAX_TOP_LEVEL_KEYS:,} top-level keys. {what}.")
            elif prefix == "resourceType" and event == "string":
                resource_type = str(value)
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as e:
        raise _invalid(e, what) from e
    finally:
        stream.seek(0)
    if kind is None:
        raise UnsupportedInput(f"This file is empty. Upload {what}.")
    return JsonShape(kind, tuple(keys), resource_type)


def load_whole(stream: BinaryIO, what: str) -> Any:
    """The parsed document, for shapes that are not streamed; capped at :data:`MAX_JSON_BYTES`.

    Raises:
        UnsupportedInput: too large, or not valid JSON.
    """
    size = stream.seek(0, 2)
    stream.seek(0)
    if size > MAX_JSON_BYTES:
        raise UnsupportedInput(
            f"This JSON file is {size / 1024**2:.0f} MB; in this layout one import takes at most "
            f"{MAX_JSON_BYTES // 1024**2} MB. Export a shorter period and import the parts one after another."
        )
    try:
        return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _invalid(e, what) from e


def stream_items(stream: BinaryIO, path: str, what: str) -> Iterator[Any]:
    """The values at ``path`` (ijson's prefix syntax, e.g. ``entry.item.resource``), one at a time."""
    stream.seek(0)
    try:
        yield from ijson.items(stream, path, use_float=True)
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as e:
        raise _invalid(e, what) from e


def stream_pairs(stream: BinaryIO, what: str) -> Iterator[tuple[str, Any]]:
    """The (key, value) pairs of the top-level object, one at a time."""
    stream.seek(0)
    try:
        for key, value in ijson.kvitems(stream, "", use_float=True):
            yield str(key), value
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as e:
        raise _invalid(e, what) from e
