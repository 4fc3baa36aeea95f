"""Shared helpers of the CSV importers: decoding, headers, and rejecting unparseable cells."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Generator, Iterator
from datetime import tzinfo
from typing import BinaryIO

import numpy as np
import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog, parse_timestamps
from backend.domain.metrics.catalog import normalise_name
from backend.domain.metrics.report import MAX_LISTED_REJECTIONS
from backend.domain.metrics.samples import to_numbers

TIME_HINT = "use ISO 8601 like 2024-03-01T07:30:00+05:30, a date like 2024-03-01, or epoch seconds"
_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[\[(](?P<unit>[^\])]*)[\])]\s*$")


def csv_rows(stream: BinaryIO) -> Generator[tuple[int, list[str]], None, None]:
    """(line number, cells) for every row; the dialect (comma, semicolon, tab) is sniffed from the header."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")
    try:
        first = text.readline()
        delimiter = max(",;\t", key=first.count) if first else ","
        reader = csv.reader(_chain(first, text), delimiter=delimiter)
        for row in reader:
            yield reader.line_num, row
    except UnicodeDecodeError as e:
        raise UnsupportedInput(
            "This file is not UTF-8 text, so it cannot be a CSV export. Save it as CSV (UTF-8) and upload it again."
        ) from e
    except csv.Error as e:
        raise UnsupportedInput(f"This CSV cannot be read ({e}). Check quoting and upload it again.") from e
    finally:
        text.detach()


def _chain(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    yield first
    for line in rest:  # noqa: UP028  # not `yield from`: closing this half-way must not close the stream
        yield line


def split_header(cell: str) -> tuple[str, str]:
    """'temperature (°F)' -> ('temperature', '°F'); 'steps' -> ('steps', '')."""
    m = _UNIT_IN_HEADER.match(cell.strip())
    if m:
        return normalise_name(m["name"]), m["unit"].strip()
    return normalise_name(cell), ""


def is_text(head: bytes) -> bool:
    """True when ``head`` decodes as UTF-8 (a cut multi-byte character at the end is allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def parse_values(raw: pd.Series, lines: np.ndarray, log: ImportLog, what: str = "value") -> pd.Series:
    """Numbers from text cells; cells that are not numbers are rejected with their line."""
    text = raw.astype("str").str.strip()
    values = to_numbers(text)
    bad = values.isna().to_numpy()
    if bad.any():  # a decimal comma ("36,6") from a semicolon-separated spreadsheet export
        values[bad] = to_numbers(text[bad].str.replace(",", ".", regex=False))
        bad = values.isna().to_numpy()
    if bad.any():
        where = np.flatnonzero(bad)[:MAX_LISTED_REJECTIONS]
        reasons = [
            f"no {what}" if text.iloc[i] == "" else f"{what} '{text.iloc[i][:40]}' is not a number" for i in where
        ]
        log.reject_many(lines[where].tolist(), reasons, total=int(bad.sum()))
    return values


def parse_times(raw: pd.Series, lines: np.ndarray, log: ImportLog, tz: str | tzinfo) -> pd.Series:
    """UTC timestamps from text cells; unparseable cells are rejected with their line."""
    ts = parse_timestamps(raw.astype("str").str.strip(), tz).reset_index(drop=True)
    bad = ts.isna().to_numpy()
    if bad.any():
        where = np.flatnonzero(bad)[:MAX_LISTED_REJECTIONS]
        reasons = [f"timestamp '{str(raw.iloc[i])[:40]}' is not a date/time ({TIME_HINT})" for i in where]
        log.reject_many(lines[where].tolist(), reasons, total=int(bad.sum()))
    return ts
