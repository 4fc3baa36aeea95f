"""One retry policy for every LLM engine: exponential backoff with full jitter, the server's hint first.

Each engine says how it reads its own errors (a ``classify`` function: exception -> :class:`Failure` or
``None`` for "not a provider problem, let it surface"); the loop itself is ``tenacity``'s. Whatever is still
failing after the last attempt becomes :class:`ProviderUnavailable` with the engine's user-facing message,
which is what hands the work over to the offline engine.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from backend.domain.errors import ProviderUnavailable

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (0-based) waits uniform(0, min(max_delay, base_delay * 2**n)) unless the server said how long."""

    attempts: int = 4  # including the first request
    base_delay: float = 1.0
    max_delay: float = 20.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        return rand() * min(self.max_delay, self.base_delay * (2**attempt))


@dataclass(frozen=True)
class Failure:
    """How an engine reads one error: retry it or not, what to tell the user, how long the server asked to wait."""

    message: str
    retry: bool = False
    delay_s: float | None = None


Classifier = Callable[[BaseException], Failure | None]


def call_with_retries(
    what: str,
    fn: Callable[[], R],
    classify: Classifier,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    engine: str = "llm",
) -> R:
    """Run ``fn`` under ``policy``; provider failures end as ProviderUnavailable, anything else propagates.

    Args:
        what: the task, for logs ("note drafting").
        classify: the engine's reading of an exception (``None``: not a provider error).
        sleep, rand: injectable so tests never wait.
    """

    def retryable(error: BaseException) -> bool:
        failure = classify(error)
        return failure is not None and failure.retry

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        failure = classify(error) if error is not None else None
        if failure is not None and failure.delay_s is not None:
            return min(failure.delay_s, policy.max_delay)
        return policy.delay(state.attempt_number - 1, rand)

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info("%s %s: %s, retry %d", engine, what, type(error).__name__, state.attempt_number)

    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=wait,
        retry=retry_if_exception(retryable),
        sleep=sleep,
        before_sleep=note,
        reraise=True,
    )
    try:
        return retrying(fn)
    except ProviderUnavailable:
        raise
    except Exception as error:
        failure = classify(error)
        if failure is None:
            raise
        raise ProviderUnavailable(failure.message) from None
