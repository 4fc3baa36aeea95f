"""Run independent decodes a few at a time and give their results back in input order.

Whisper's clips of one recording are decoded each on its own (no text carried from one to the next), so two can
run at once, one CPU core each; CTranslate2 releases the GIL while it computes. The order of the results is the
order of the clips whatever finishes first, so the transcript does not depend on scheduling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]``, with up to ``workers`` calls running at once in threads.

    Args:
        fn: The work for one item; must not depend on another item's result.
        items: The inputs, started in this order.
        workers: Calls at once; 1 (or a single item) runs in the calling thread.

    Raises:
        Exception: The first failure in input order, once the calls already running have ended; the calls not
            started yet are cancelled, so no thread outlives this function.
    """
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="whisper-clip")
    futures: list[Future[R]] = [pool.submit(fn, x) for x in items]
    try:
        return [f.result() for f in futures]
    finally:
        # A decode cannot be interrupted mid-call: wait for those running, drop the queued ones.
        pool.shutdown(wait=True, cancel_futures=True)
