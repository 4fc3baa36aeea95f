"""CSV in the long format: ``patient_id,timestamp,metric,value,unit`` (one reading per row).

``patient_id`` may be left out (or empty) when the patient is chosen in the UI; ``unit`` and a
``source`` column are optional. The file streams through Arrow's CSV reader in blocks (all cells
read as text, then converted vectorised), so a 1,000,000-row file imports in about a second and
memory stays bounded. Rows with the wrong number of fields are reported with their line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import SAMPLE_COLUMNS, ImportLog
from backend.formats.importers._text import parse_times, parse_values, split_header

FORMAT = "csv_long"
HEADER = ["patient_id", "timestamp", "metric", "value", "unit"]
_ALIASES = {
    "time": "timestamp",
    "datetime": "timestamp",
    "date_time": "timestamp",
    "ts": "timestamp",
    "patient": "patient_id",
}
_REQUIRED = ("timestamp", "metric", "value")
BLOCK_BYTES = 4 << 20


def read_csv_long(
    stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC", block_bytes: int = BLOCK_BYTES
) -> Iterator[pd.DataFrame]:
    """Stream sample frames from a long-format CSV.

    Rows with the wrong number of fields, a value that is not a number or a timestamp that is not
    a date are rejected with their line number; the good rows import.

    Raises:
        UnsupportedInput: the header is not the long format, or the file is not UTF-8 text.
    """
    first = stream.readline()
    try:
        header_text = first.decode("utf-8-sig").strip("\r\n")
    except UnicodeDecodeError as e:
        raise UnsupportedInput("This file is not UTF-8 text, so it cannot be a CSV. Save it as CSV (UTF-8).") from e
    if not header_text.strip():
        raise UnsupportedInput("This CSV is empty. Download the template and fill in one reading per row.")
    delimiter = max(",;\t", key=header_text.count)
    cells = [c.strip().strip('"') for c in header_text.split(delimiter)]
    names = [_ALIASES.get(n, n) for n, _ in (split_header(c) for c in cells)]
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise UnsupportedInput(
            f"This CSV has no {', '.join(repr(m) for m in missing)} column, so it is not the long format "
            f"({','.join(HEADER)}). Download the long template, or choose the wide daily format."
        )
    invalid: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = (row.number or 0) + 1  # +1: the header was read before the reader started
        invalid.append(line)
        if row.actual_columns > 1 or row.text.strip():
            log.reject(line, f"expected {row.expected_columns} fields ({','.join(cells)}), found {row.actual_columns}")
        return "skip"

    columns = [f"c{i}" for i in range(len(names))]
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=columns, use_threads=False, block_size=block_bytes),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
            ),
        )
        next_line = 2
        for batch in reader:
            if batch.num_rows == 0:
                continue
            lines = _line_numbers(next_line, batch.num_rows, invalid)
            next_line = int(lines[-1]) + 1
            table = batch.to_pandas()
            table.columns = names
            yield _frame(table, lines, log, tz)
    except pa.ArrowInvalid as e:
        raise UnsupportedInput(
            f"This CSV cannot be read: {str(e)[:200]}. Save it as CSV (UTF-8) and upload it again."
        ) from e


def _line_numbers(start: int, count: int, invalid: list[int]) -> np.ndarray:
    """Physical line numbers of ``count`` good rows from ``start``, skipping the invalid lines."""
    skipped = np.asarray([n for n in invalid if n >= start], dtype="int64")
    candidates = np.arange(start, start + count + len(skipped), dtype="int64")
    return candidates[~np.isin(candidates, skipped)][:count]


def _frame(table: pd.DataFrame, lines: np.ndarray, log: ImportLog, tz: str | tzinfo) -> pd.DataFrame:
    def column(name: str) -> pd.Series:
        return (
            table[name].str.strip().reset_index(drop=True)
            if name in table
            else pd.Series([""] * len(table), dtype="str")
        )

    metric = column("metric")
    value_text = column("value")
    ts_text = column("timestamp")
    blank = ((metric == "") & (value_text == "") & (ts_text == "")).to_numpy()
    no_metric = (metric == "").to_numpy() & ~blank
    if no_metric.any():
        log.reject_many(lines[no_metric].tolist(), ["no metric name"] * int(no_metric.sum()))
    keep = ~(blank | no_metric)
    if not keep.all():
        lines, metric, value_text, ts_text = lines[keep], metric[keep], value_text[keep], ts_text[keep]
    value = parse_values(value_text.reset_index(drop=True), lines, log)
    ts = parse_times(ts_text.reset_index(drop=True), lines, log, tz)
    kept = np.flatnonzero(keep)
    frame = pd.DataFrame(
        {
            "line": lines,
            "patient_id": column("patient_id").take(kept).reset_index(drop=True),
            "ts": ts,
            "metric": metric.reset_index(drop=True),
            "value": value,
            "unit": column("unit").take(kept).reset_index(drop=True),
            "source": column("source").take(kept).reset_index(drop=True) if "source" in table else FORMAT,
        }
    )
    return frame.dropna(subset=["ts", "value"])[SAMPLE_COLUMNS]
