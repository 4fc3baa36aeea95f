"""Daily aggregates built block by block equal those of the whole file at once, and one import is capped."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from backend.domain.errors import UnsupportedInput
from backend.domain.metrics import ImportLog, Sample, aggregate, daily_aggregates, deduplicate, load_catalog, normalise
from backend.domain.metrics.samples import frame_from_samples
from backend.domain.metrics.streaming import DailyAccumulator

T0 = 1_709_251_200  # 2024-03-01T00:00:00Z
METRICS = [("heart_rate", 40, 120), ("resting_hr", 45, 70), ("hrv", 20, 90), ("steps", 0, 500), ("spo2", 92, 100)]


def _samples(seed: int, n: int) -> list[Sample]:
    """Seeded readings over 6 days, 2 patients, 2 sources; some instants repeat with another value."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        metric, lo, hi = rng.choice(METRICS)
        ts = T0 + rng.randrange(6 * 86_400 // 60) * 60  # minute grid: repeats happen
        value = float(rng.randint(lo, hi)) if metric != "hrv" else round(rng.uniform(lo, hi), 2)
        out.append(Sample(rng.choice(["P1", "P2"]), ts, metric, value, "", rng.choice(["Watch", "Phone"]), i + 1))
    return out


def _batch(frame: pd.DataFrame, tz: str) -> tuple[pd.DataFrame, int, int]:
    catalog = load_catalog()
    clean = normalise(frame, catalog, ImportLog())
    samples, duplicates = deduplicate(clean)
    return daily_aggregates(samples, catalog, tz), len(samples), duplicates


def _blocks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


@pytest.mark.parametrize(
    ("seed", "block", "tz"), [(1, 97, "UTC"), (2, 500, "Asia/Kolkata"), (3, 250, "America/New_York")]
)
def test_block_by_block_equals_the_whole_file(seed: int, block: int, tz: str) -> None:
    frame = frame_from_samples(_samples(seed, 2_000), tz)
    expected, samples, duplicates = _batch(frame, tz)
    assert duplicates > 0  # the data exercises "the later row wins" across blocks
    result = aggregate(_blocks(frame, block), load_catalog(), ImportLog(), None, tz)
    assert (result.samples, result.duplicates) == (samples, duplicates)
    got = result.days
    pd.testing.assert_frame_equal(
        got.drop(columns="value"), expected.drop(columns="value"), check_dtype=False, check_index_type=False
    )
    # Sums and means of the same numbers in another order can differ in the last bit, before rounding.
    np.testing.assert_allclose(got["value"].to_numpy(), expected["value"].to_numpy(), atol=1.01e-3, rtol=0)
    assert (np.abs(got["value"].to_numpy() - expected["value"].to_numpy()) > 1e-9).mean() < 0.01


def test_a_later_duplicate_replaces_the_earlier_value_in_another_block() -> None:
    first = frame_from_samples([Sample("P1", T0 + 3600, "steps", 100.0, "", "Watch", 1)])
    again = frame_from_samples([Sample("P1", T0 + 3600, "steps", 250.0, "", "Watch", 9)])
    result = aggregate([first, again], load_catalog(), ImportLog(), None, "UTC")
    assert result.duplicates == 1 and result.samples == 1
    assert result.days[["metric", "value", "n_samples"]].values.tolist() == [["steps", 250.0, 1]]


def test_derived_resting_heart_rate_uses_exact_percentiles_of_repeated_values() -> None:
    night = [Sample("P1", T0 + 60 * k, "heart_rate", float(50 + k % 7), "", "Watch", k) for k in range(300)]
    frame = frame_from_samples(night)
    expected, _, _ = _batch(frame, "UTC")
    got = aggregate(_blocks(frame, 13), load_catalog(), ImportLog(), None, "UTC").days
    assert got["value"].tolist() == expected["value"].tolist()  # 10th percentile of the night's readings
    assert got["metric"].tolist() == ["resting_hr"]


def test_more_readings_than_the_cap_are_refused_with_a_message() -> None:
    frame = frame_from_samples([Sample("P1", T0 + k, "heart_rate", 60.0, "", "Watch", k) for k in range(50)])
    with pytest.raises(UnsupportedInput, match="more than 120 readings"):
        aggregate(_blocks(frame, 10) * 3, load_catalog(), ImportLog(), None, "UTC", max_samples=120)


def test_the_zone_is_asked_once_at_the_first_sample() -> None:
    asked: list[str] = []

    def zone() -> str:
        asked.append("Asia/Kolkata")
        return "Asia/Kolkata"

    days = DailyAccumulator(load_catalog(), zone)
    days.add(pd.DataFrame(columns=frame_from_samples([]).columns))
    assert asked == []
    # 20:00 UTC on 1 March is 01:30 on 2 March in India
    days.add(frame_from_samples([Sample("P1", T0 + 20 * 3600, "spo2", 97.0, "%", "Watch", 1)]))
    days.add(frame_from_samples([Sample("P1", T0 + 21 * 3600, "spo2", 95.0, "%", "Watch", 2)]))
    assert asked == ["Asia/Kolkata"]
    assert days.days()[["day", "value"]].values.tolist() == [["2024-03-02", 96.0]]


def test_the_same_instant_in_another_time_unit_is_still_a_duplicate() -> None:
    first = frame_from_samples([Sample("P1", T0 + 3600, "steps", 100.0, "", "Watch", 1)])
    again = frame_from_samples([Sample("P1", T0 + 3600, "steps", 250.0, "", "Watch", 2)])
    first["ts"] = first["ts"].dt.as_unit("us")
    again["ts"] = again["ts"].dt.as_unit("ns")
    result = aggregate([first, again], load_catalog(), ImportLog(), None, "UTC")
    assert (result.duplicates, result.days["value"].tolist()) == (1, [250.0])


def test_instants_of_ordered_blocks_are_never_copied_and_unordered_ones_are_merged() -> None:
    from backend.domain.metrics.streaming import _MERGE_CHUNKS, _Series

    ordered = _Series()
    for block in range(40):
        ts = np.arange(block * 100, block * 100 + 100, dtype="int64")
        seen, _ = ordered.replace(ts, ts.astype("float64"))
        assert not seen.any()
    assert len(ordered.chunks) == 40
    shuffled, rng = _Series(), np.random.default_rng(16)
    instants = rng.permutation(4_000).astype("int64")
    for part in np.array_split(instants, 40):
        shuffled.replace(part, np.zeros(len(part)))
    assert len(shuffled.chunks) <= _MERGE_CHUNKS
    merged = np.concatenate([c[0] for c in shuffled.chunks])
    assert np.array_equal(np.sort(merged), np.arange(4_000))
    seen, old = shuffled.replace(np.array([5, 4_000], dtype="int64"), np.array([1.0, 2.0]))
    assert seen.tolist() == [True, False] and old[0] == 0.0


def _traced_peak(readings: int) -> int:
    import tracemalloc

    block = 20_000
    ts = pd.Series(pd.to_datetime(T0 + np.arange(block) * 15, unit="s", utc=True))

    def frames():  # type: ignore[no-untyped-def]  # time-ordered heart rate, like an Apple export
        for b in range(readings // block):
            yield pd.DataFrame(
                {
                    "line": np.arange(block),
                    "patient_id": "P1",
                    "ts": ts + pd.Timedelta(seconds=15 * block * b),
                    "metric": "heart_rate",
                    "value": 50.0 + (np.arange(block) % 60),
                    "unit": "count/min",
                    "source": "Watch",
                }
            )

    tracemalloc.start()
    try:
        aggregate(frames(), load_catalog(), ImportLog(), None, "UTC")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_by_the_instants_index_not_by_frames() -> None:
    small, large = _traced_peak(40_000), _traced_peak(200_000)
    # 160,000 more readings: about 16 bytes each for the de-duplication index; keeping frames costs ~170.
    assert large - small < 40 * 160_000, (small, large)
