"""The shared process entry of the worker, the upload consumer and the stream consumer."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from backend.domain.errors import ValidationFailed
from backend.worker.process import serve


@pytest.fixture(autouse=True)
def _restore_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_failed_build_exits_2_with_its_message_and_never_runs(capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[object] = []

    def build() -> object:
        raise ValidationFailed("No SQS queue URL is configured; set COPILOT_SQS_QUEUE_URL.")

    assert serve(build, lambda built, stop: ran.append(built)) == 2
    assert ran == []
    assert capsys.readouterr().err == "error: No SQS queue URL is configured; set COPILOT_SQS_QUEUE_URL.\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_signal_sets_the_stop_event_the_run_is_given(sig: signal.Signals) -> None:
    seen: list[tuple[object, bool, bool]] = []

    def run(built: str, stop: threading.Event) -> None:
        before = stop.is_set()
        signal.raise_signal(sig)  # the handler runs before raise_signal returns (main thread)
        seen.append((built, before, stop.is_set()))

    assert serve(lambda: "parts", run) == 0
    assert seen == [("parts", False, True)]
