"""The Apple Health importer keeps memory per record small and its output independent of the block size."""

from __future__ import annotations

import io
import tracemalloc

import pandas as pd

from backend.domain.metrics import ImportLog, aggregate, load_catalog
from backend.formats.importers.apple_health import read_apple_health

Q = "HKQuantityTypeIdentifier"


def _export(n: int) -> bytes:
    records = []
    for i in range(n):
        source = ("Watch", "iPhone")[i % 2]
        minute = f"{i % 60:02d}"
        records.append(
            f'<Record type="{Q}HeartRate" sourceName="{source}" unit="count/min" '
            f'startDate="2024-03-0{1 + i % 3} 0{i % 9}:{minute}:00 +0530" '
            f'endDate="2024-03-0{1 + i % 3} 0{i % 9}:{minute}:00 +0530" value="{60 + i % 30}"/>'
        )
        records.append(
            f'<Record type="{Q}StepCount" sourceName="{source}" unit="count" '
            f'startDate="2024-03-02 1{i % 9}:00:00 +0530" endDate="2024-03-02 1{i % 9}:{minute}:00 +0530" '
            f'value="{i}"/>'
        )
    return ('<?xml version="1.0"?><HealthData locale="en_IN">' + "".join(records) + "</HealthData>").encode()


def _reading_peak(n: int) -> tuple[int, int]:
    """(rows read, peak bytes allocated) while streaming an export of ``n`` records without keeping frames."""
    data = _export(n // 2)
    tracemalloc.start()
    rows = 0
    for frame in read_apple_health(io.BytesIO(data), ImportLog(), block_records=500):
        rows += len(frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, peak


def test_memory_while_reading_is_bounded_by_the_block_not_the_file() -> None:
    small_rows, small_peak = _reading_peak(2_000)
    large_rows, large_peak = _reading_peak(8_000)
    assert (small_rows, large_rows) == (2_000, 8_000)
    # Four times the records, about the same peak: only one block of raw attribute strings is alive at a time.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_output_does_not_depend_on_the_block_size() -> None:
    data = _export(500)
    results = []
    # 37 records a block (an odd number: blocks end inside a heart-rate/steps pair and inside a day) against one
    # block; smaller blocks test nothing more and cost seconds each in the aggregation.
    for block in (37, 20_000):
        log = ImportLog()
        frames = list(read_apple_health(io.BytesIO(data), log, block_records=block))
        results.append((aggregate(frames, load_catalog(), log, "PAT_1", log.tz_hint or "UTC"), log))
    (small, small_log), (large, large_log) = results
    pd.testing.assert_frame_equal(small.days.reset_index(drop=True), large.days.reset_index(drop=True))
    assert (small.samples, small.duplicates) == (large.samples, large.duplicates)
    assert small_log.rejected_total == large_log.rejected_total
