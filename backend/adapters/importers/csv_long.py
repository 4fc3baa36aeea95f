"""CSV in the long format: ``patient_id,timestamp,metric,value,unit`` (one reading per row).

``patient_id`` may be left out (or empty) when the patient is chosen in the UI; ``unit`` and a
``source`` column are optional. Rows stream in chunks, so a 1,000,000-row file stays fast and small.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import BinaryIO

import numpy as np
import pandas as pd

from backend.adapters.importers._text import csv_rows, parse_times, parse_values, split_header
from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import SAMPLE_COLUMNS, ImportLog

FORMAT = "csv_long"
HEADER = ["patient_id", "timestamp", "metric", "value", "unit"]
_ALIASES = {"time": "timestamp", "datetime": "timestamp", "date_time": "timestamp", "ts": "timestamp", "patient": "patient_id"}
_REQUIRED = ("timestamp", "metric", "value")
CHUNK_ROWS = 250_000


def read_csv_long(stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC", chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Stream sample frames from a long-format CSV.

    Rows with the wrong number of fields, a value that is not a number or a timestamp that is not
    a date are rejected with their line number; the good rows import.

    Raises:
        UnsupportedInput: the header is not the long format.
    """
    rows = csv_rows(stream)
    header_line = next(rows, None)
    if header_line is None:
        raise UnsupportedInput("This CSV is empty. Download the template and fill in one reading per row.")
    names = [_ALIASES.get(n, n) for n, _ in (split_header(c) for c in header_line[1])]
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise UnsupportedInput(
            f"This CSV has no {', '.join(repr(m) for m in missing)} column, so it is not the long format "
            f"({','.join(HEADER)}). Download the long template, or choose the wide daily format."
        )
    col = {name: names.index(name) for name in ("patient_id", "timestamp", "metric", "value", "unit", "source") if name in names}
    width = len(names)
    good: list[list[str]] = []
    lines: list[int] = []
    for line, cells in rows:
        if len(cells) == width:
            good.append(cells)
            lines.append(line)
        elif not any(c.strip() for c in cells):
            continue  # blank line
        else:
            log.reject(line, f"expected {width} fields ({','.join(header_line[1])}), found {len(cells)}")
        if len(good) >= chunk_rows:
            yield _frame(good, lines, col, log, tz)
            good, lines = [], []
    if good:
        yield _frame(good, lines, col, log, tz)


def _frame(rows: list[list[str]], lines_list: list[int], col: dict[str, int], log: ImportLog, tz: str | tzinfo) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True))
    lines = np.asarray(lines_list, dtype="int64")

    def column(name: str) -> pd.Series:
        if name not in col:
            return pd.Series([""] * len(rows), dtype="object")
        return pd.Series(columns[col[name]], dtype="object")

    metric = column("metric").str.strip()
    no_metric = (metric == "").to_numpy()
    if no_metric.any():
        log.reject_many(lines[no_metric].tolist(), ["no metric name"] * int(no_metric.sum()))
    value = parse_values(column("value")[~no_metric].reset_index(drop=True), lines[~no_metric], log)
    keep_lines = lines[~no_metric]
    ts = parse_times(column("timestamp")[~no_metric].reset_index(drop=True), keep_lines, log, tz)
    frame = pd.DataFrame(
        {
            "line": keep_lines,
            "patient_id": column("patient_id")[~no_metric].to_numpy(),
            "ts": ts,
            "metric": metric[~no_metric].to_numpy(),
            "value": value,
            "unit": column("unit")[~no_metric].to_numpy(),
            "source": column("source")[~no_metric].to_numpy() if "source" in col else FORMAT,
        }
    )
    return frame.dropna(subset=["ts", "value"])[SAMPLE_COLUMNS]
