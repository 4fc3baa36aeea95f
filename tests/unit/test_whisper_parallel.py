"""Independent decodes a few at a time: results in input order, failures surfaced, no thread left behind."""

from __future__ import annotations

import threading

import pytest

from backend.adapters.speech.whisper_parallel import map_in_order

WAIT_S = 10.0  # a bound on waiting for an event another thread sets at once; never reached when all is well


def _pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("whisper-clip")]


def test_results_keep_the_input_order_when_a_later_item_finishes_first() -> None:
    second_done = threading.Event()
    finished: list[int] = []

    def work(i: int) -> str:
        if i == 0:  # the first item waits until the second has finished
            assert second_done.wait(WAIT_S)
        finished.append(i)
        if i == 1:
            second_done.set()
        return f"clip {i}"

    assert map_in_order(work, [0, 1, 2], workers=2) == ["clip 0", "clip 1", "clip 2"]
    assert finished.index(1) < finished.index(0)  # they did run at the same time
    assert not _pool_threads()


def test_one_worker_runs_in_the_calling_thread() -> None:
    names = map_in_order(lambda _i: threading.current_thread().name, [0, 1], workers=1)
    assert names == [threading.current_thread().name] * 2


def test_a_failure_surfaces_once_the_call_beside_it_has_finished() -> None:
    finished: list[int] = []
    failed = threading.Event()

    def work(i: int) -> int:
        if i == 0:
            failed.set()
            raise RuntimeError("decoder failed")
        assert failed.wait(WAIT_S)  # item 1 runs beside item 0 and outlives its failure
        finished.append(i)
        return i

    with pytest.raises(RuntimeError, match="decoder failed"):
        map_in_order(work, list(range(6)), workers=2)
    # Whatever had started ran to its end (a decode cannot be stopped half-way); the items still queued when
    # the failure was seen were cancelled (how many depends on scheduling); every pool thread has ended.
    assert 1 in finished
    assert not _pool_threads()
