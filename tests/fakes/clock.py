"""A clock that moves only when the test says so."""

from __future__ import annotations


class FakeClock:
    """Epoch seconds (``clock()``) and milliseconds (``clock.ms()``), starting at a fixed instant."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def ms(self) -> int:
        """The same instant in epoch milliseconds (what job and note rows are stamped with)."""
        return int(self.now * 1000)

    def pass_seconds(self, seconds: float) -> None:
        """Move time forward; nothing else ever does."""
        self.now += seconds
