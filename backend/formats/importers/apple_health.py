"""Apple Health ``export.xml`` (or the ``export.zip`` the iPhone shares), parsed in bounded memory.

``iterparse`` walks the file; every finished ``<Record>`` is read and then dropped from the tree
(``elem.clear()`` and the root emptied), so a multi-gigabyte export never becomes a tree in memory.
Records become sample frames in blocks of :data:`BLOCK_RECORDS`, small enough that the raw attribute
strings of one block stay a few MB; the frames themselves are compact (numbers, timestamps, and the
handful of distinct unit and source names shared, not one string object per record). Sleep is special: the asleep
intervals of ``HKCategoryTypeIdentifierSleepAnalysis`` are merged per source (stages overlap with
"asleep" from another app) and become hours ending on the wake-up time.

The standard library parser is safe here: expat >= 2.4.1 refuses entity-expansion bombs, and
ElementTree never fetches external entities.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta, timezone, tzinfo
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError, iterparse  # nosec B405 (see the module docstring)

import pandas as pd

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import SAMPLE_COLUMNS, ImportLog, parse_timestamps

FORMAT = "apple_health"
QUANTITIES = {
    "HKQuantityTypeIdentifierHeartRate": "heart_rate",
    "HKQuantityTypeIdentifierRestingHeartRate": "resting_hr",
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": "hrv",
    "HKQuantityTypeIdentifierStepCount": "steps",
    "HKQuantityTypeIdentifierOxygenSaturation": "spo2",
    "HKQuantityTypeIdentifierBodyTemperature": "temperature",
    "HKQuantityTypeIdentifierRespiratoryRate": "respiratory_rate",
}
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
ASLEEP_VALUES = frozenset(
    {
        "HKCategoryValueSleepAnalysisAsleep",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
    }
)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# Raw strings of a block cost ~300 bytes a record until the block becomes a frame (~60 bytes a record).
BLOCK_RECORDS = 20_000
MAX_UNPACKED_BYTES = 8 * 1024**3  # years of Apple Watch data unpack to a few GB; more is a zip bomb


def _size(n: int) -> str:
    return f"{n / 1024**3:.0f} GB" if n >= 1024**3 else f"{max(1, round(n / 1024**2))} MB"


class _Capped(io.RawIOBase):
    """A zip member read through a byte budget: the declared size can lie, the count cannot."""

    def __init__(self, member: IO[bytes], limit: int) -> None:
        self._member, self._limit, self._read = member, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._member.read(len(buffer))
        self._read += len(data)
        if self._read > self._limit:
            raise UnsupportedInput(
                f"export.xml unpacks to more than {_size(self._limit)}, which is not a plausible Apple Health "
                "export. Export the health data again, or import a shorter period as CSV."
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        super().close()


def open_export(stream: BinaryIO, max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> IO[bytes]:
    """The XML stream of an export: the file itself, or ``export.xml`` inside the shared zip (size-capped)."""
    head = stream.read(4)
    stream.seek(0)
    if head != b"PK\x03\x04":
        return stream
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as e:
        raise UnsupportedInput("This zip file is damaged. Export the health data again and upload export.zip.") from e
    names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "export.xml"]
    if not names:
        raise UnsupportedInput("This zip has no export.xml, so it is not an Apple Health export.")
    if archive.getinfo(names[0]).file_size > max_unpacked_bytes:
        raise UnsupportedInput(
            f"export.xml would unpack to more than {_size(max_unpacked_bytes)}, which is not a plausible "
            "Apple Health export. Export the health data again, or import a shorter period as CSV."
        )
    # streamed: the archive member is never read whole, and never past the budget
    return io.BufferedReader(_Capped(archive.open(names[0]), max_unpacked_bytes))


def read_apple_health(
    stream: BinaryIO,
    log: ImportLog,
    block_records: int = BLOCK_RECORDS,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
) -> Iterator[pd.DataFrame]:
    """Stream sample frames from an Apple Health export (XML or zip).

    Raises:
        UnsupportedInput: not XML, or XML that is not an Apple Health export.
    """
    xml = open_export(stream, max_unpacked_bytes)
    rows: dict[str, list[str]] = defaultdict(list)
    shared: dict[str, str] = {}  # one string object per distinct unit / source name, not one per record
    sleep: dict[str, list[tuple[str, str]]] = defaultdict(list)
    count = 0
    seen_root = False
    root: Element | None = None
    try:
        # Safe with the standard library: expat >= 2.4.1 stops entity-expansion bombs and ElementTree
        # never loads external entities (see the module docstring).
        for event, elem in iterparse(xml, events=("start", "end")):  # noqa: S314  # nosec B314
            if event == "start":
                if root is None:
                    root = elem
                    if elem.tag != "HealthData":
                        raise UnsupportedInput(
                            f"This XML starts with <{elem.tag}>, not <HealthData>: it is not an Apple Health export."
                        )
                    seen_root = True
                continue
            if elem.tag == "Record":
                count += 1
                _record(elem, count, rows, sleep, shared)
                elem.clear()
                root.clear()  # type: ignore[union-attr]  # drop finished siblings: memory stays bounded
                if len(rows["line"]) >= block_records:
                    yield _frame(rows, log)
                    rows = defaultdict(list)
            elif elem.tag in ("Workout", "ActivitySummary", "Correlation", "ClinicalRecord", "Me", "ExportDate"):
                elem.clear()
                root.clear()  # type: ignore[union-attr]
    except ParseError as e:
        if not seen_root:
            raise UnsupportedInput("This file is not XML, so it is not an Apple Health export.xml.") from e
        log.notes.append(f"The export is cut short or damaged ({e}); the records before that point were read.")
    if not seen_root:
        raise UnsupportedInput("This file is empty; upload export.xml (or export.zip) from the Health app.")
    if rows["line"]:
        yield _frame(rows, log)
    if sleep:
        yield _sleep_frame(sleep, log)


def _record(
    elem: Element,
    number: int,
    rows: dict[str, list[str]],
    sleep: dict[str, list[tuple[str, str]]],
    shared: dict[str, str],
) -> None:
    kind = elem.get("type", "")
    metric = QUANTITIES.get(kind)
    if metric is not None:
        rows["line"].append(str(number))
        rows["metric"].append(metric)
        rows["value"].append(elem.get("value", ""))
        unit = elem.get("unit", "")
        rows["unit"].append(shared.setdefault(unit, unit))
        # Steps are counted over an interval: date them by its end, like the sleep.
        rows["ts"].append(elem.get("endDate" if metric == "steps" else "startDate", ""))
        source = elem.get("sourceName", FORMAT)
        rows["source"].append(shared.setdefault(source, source))
    elif kind == SLEEP_TYPE and elem.get("value") in ASLEEP_VALUES:
        source = elem.get("sourceName", FORMAT)
        sleep[shared.setdefault(source, source)].append((elem.get("startDate", ""), elem.get("endDate", "")))


def _frame(rows: dict[str, list[str]], log: ImportLog) -> pd.DataFrame:
    ts = parse_timestamps(pd.Series(rows["ts"], dtype="str"), fmt=DATE_FORMAT)
    if log.tz_hint is None and rows["ts"]:
        log.tz_hint = _offset_tz(rows["ts"][0])
    frame = pd.DataFrame(
        {
            "line": pd.Series(rows["line"], dtype="int64"),
            "patient_id": "",
            "ts": ts,
            "metric": rows["metric"],
            "value": pd.to_numeric(pd.Series(rows["value"], dtype="str"), errors="coerce"),
            "unit": rows["unit"],
            "source": rows["source"],
        }
    )
    bad = frame["ts"].isna() | frame["value"].isna()
    for line in frame.loc[bad, "line"].head(100):
        log.reject(int(line), "record without a readable date or value")
    return frame.loc[~bad, SAMPLE_COLUMNS]


def _sleep_frame(sleep: dict[str, list[tuple[str, str]]], log: ImportLog) -> pd.DataFrame:
    """Merged asleep intervals per source as hours, dated by their end."""
    parts = []
    for source, intervals in sleep.items():
        starts = parse_timestamps(pd.Series([s for s, _ in intervals], dtype="str"), fmt=DATE_FORMAT)
        ends = parse_timestamps(pd.Series([e for _, e in intervals], dtype="str"), fmt=DATE_FORMAT)
        iv = pd.DataFrame({"start": starts, "end": ends}).dropna()
        iv = iv[iv["end"] > iv["start"]].sort_values("start", ignore_index=True)
        if iv.empty:
            continue
        # Merge overlaps: a new block starts where an interval begins after everything before it ended.
        new_block = iv["start"] > iv["end"].cummax().shift(1)
        block = new_block.cumsum()
        merged = iv.groupby(block).agg(start=("start", "min"), end=("end", "max"))
        parts.append(
            pd.DataFrame(
                {
                    "line": 0,
                    "patient_id": "",
                    "ts": merged["end"].to_numpy(),
                    "metric": "sleep_hours",
                    "value": ((merged["end"] - merged["start"]).dt.total_seconds() / 3600.0).to_numpy(),
                    "unit": "h",
                    "source": source,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=SAMPLE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    return out[SAMPLE_COLUMNS]


def _offset_tz(text: str) -> tzinfo | None:
    """The fixed offset of an Apple date ('2024-01-05 23:10:00 +0530'), used to date the nights."""
    try:
        sign, hours, minutes = text[-5], int(text[-4:-2]), int(text[-2:])
    except (IndexError, ValueError):
        return None
    if sign not in "+-":
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(delta if sign == "+" else -delta)


def sniff_apple(head: bytes) -> bool:
    """True when ``head`` looks like the start of an Apple Health export."""
    return b"<HealthData" in head or b"HealthKit Export" in head
