"""CSV in the wide daily format: ``date,resting_hr,hrv,temperature,sleep_hours,steps,spo2`` (one day per row).

Columns are metric names (or their aliases) with an optional unit in brackets, e.g.
``temperature (°F)``; an optional ``patient_id`` column, else the patient chosen in the UI.
Empty cells are days without that measurement.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import BinaryIO

import numpy as np
import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import SAMPLE_COLUMNS, ImportLog, load_catalog
from backend.formats.importers._text import csv_rows, parse_times, parse_values, split_header

FORMAT = "csv_wide"
HEADER = ["date", "resting_hr", "hrv", "temperature", "sleep_hours", "steps", "spo2"]
_DATE_NAMES = ("date", "day")
MAX_ROWS = 200_000  # one row a day: centuries of one patient, or a clinic's year; read whole, so capped


def read_csv_wide(stream: BinaryIO, log: ImportLog, tz: str | tzinfo = "UTC") -> Iterator[pd.DataFrame]:
    """Stream sample frames (one per metric column) from a wide daily CSV.

    Each value becomes a sample at noon of its date in ``tz``, so the daily rules keep it as it is.

    Raises:
        UnsupportedInput: there is no date column.
    """
    catalog = load_catalog()
    rows = []
    reading = csv_rows(stream)
    try:
        for row in reading:
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise UnsupportedInput(
                    f"This wide CSV has more than {MAX_ROWS:,} rows (one per patient and day). "
                    "Split it into several files, or use the long format, which streams."
                )
    finally:
        reading.close()  # now, while the upload's stream is still open
    if not rows:
        raise UnsupportedInput("This CSV is empty. Download the wide template and fill in one day per row.")
    header = [split_header(c) for c in rows[0][1]]
    names = [n for n, _ in header]
    date_col = next((i for i, n in enumerate(names) if n in _DATE_NAMES), None)
    if date_col is None:
        raise UnsupportedInput(
            f"This CSV has no 'date' column, so it is not the wide daily format ({','.join(HEADER)}). "
            "Download the wide template, or choose the long format."
        )
    pid_col = names.index("patient_id") if "patient_id" in names else None
    width = len(names)
    body: list[list[str]] = []
    lines: list[int] = []
    for line, cells in rows[1:]:
        if len(cells) == width:
            body.append(cells)
            lines.append(line)
        elif any(c.strip() for c in cells):
            log.reject(line, f"expected {width} fields ({','.join(rows[0][1])}), found {len(cells)}")
    if not body:
        return
    table = pd.DataFrame(body, dtype="object")
    line_arr = np.asarray(lines, dtype="int64")
    days = table[date_col].str.strip()
    ts = parse_times(days + "T12:00:00", line_arr, log, tz)
    patients = table[pid_col].str.strip() if pid_col is not None else pd.Series([""] * len(table))
    for i, (name, unit) in enumerate(header):
        if i in (date_col, pid_col):
            continue
        cells = table[i].str.strip()
        present = (cells != "").to_numpy() & ts.notna().to_numpy()
        if not present.any():
            continue
        if catalog.canonical(name) is None:
            log.unknown_metric(rows[0][1][i].strip(), int(present.sum()))
            continue
        values = parse_values(cells[present].reset_index(drop=True), line_arr[present], log, what=name)
        frame = pd.DataFrame(
            {
                "line": line_arr[present],
                "patient_id": patients[present].to_numpy(),
                "ts": ts[present].to_numpy(),
                "metric": name,
                "value": values.to_numpy(),
                "unit": unit,
                "source": FORMAT,
            }
        )
        frame["ts"] = frame["ts"].dt.tz_localize("UTC") if frame["ts"].dt.tz is None else frame["ts"]
        yield frame.dropna(subset=["value"])[SAMPLE_COLUMNS]
