"""The clock that signed-in sessions are timed by, and the test-only hook that moves it forward.

Browser tests of idle expiry would otherwise have to sleep out the idle limit. When, and only when, the server
process starts with ``COPILOT_TEST_CLOCK_FILE`` naming a file, the session clock is the real time plus a number
of seconds read from that file, so a test moves time by writing a number instead of waiting.

The hook is guarded so that it cannot give anyone more access than the real clock does:

- only the process environment turns it on: it is not a setting (``secrets.toml`` cannot set it) and no route,
  page or command writes the file;
- time only moves forward: a negative, unreadable or smaller number counts as the largest offset seen so far,
  so the file can end sessions and tickets early but never keep one alive or revive it;
- the file counts only when it belongs to the server's own user and nobody else may write it;
- the server logs a warning when the hook is on.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

CLOCK_FILE_ENV = "COPILOT_TEST_CLOCK_FILE"

_log = logging.getLogger(__name__)


class _ForwardOffsetClock:
    """The base clock plus the largest offset the file has held (seconds; never negative, never smaller)."""

    def __init__(self, path: Path, base: Callable[[], float]) -> None:
        self._path = path
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    def _read(self) -> float:
        try:
            info = self._path.stat()
            if info.st_uid != os.getuid() or info.st_mode & 0o022:  # someone else could move our clock
                return 0.0
            value = float(self._path.read_text(encoding="utf-8").strip() or 0)
        except (OSError, ValueError):
            return 0.0
        return value if math.isfinite(value) and value > 0 else 0.0

    def __call__(self) -> float:
        offset = self._read()
        with self._lock:
            self._offset = max(self._offset, offset)
            return self._base() + self._offset


def clock_from_environ(environ: Mapping[str, str], base: Callable[[], float] = time.time) -> Callable[[], float]:
    """The session clock for a process with this environment.

    Args:
        environ: the process environment (``COPILOT_TEST_CLOCK_FILE`` is the only key read).
        base: the real clock, epoch seconds.

    Returns:
        ``base`` itself unless the test hook is on; then ``base`` plus the file's forward-only offset.
    """
    name = environ.get(CLOCK_FILE_ENV, "").strip()
    if not name:
        return base
    _log.warning("%s is set: sessions are timed by a test clock that the named file moves forward", CLOCK_FILE_ENV)
    return _ForwardOffsetClock(Path(name), base)


@functools.cache
def session_clock() -> Callable[[], float]:
    """The one session clock of this process (the sign-in pages and the cookie route share it)."""
    return clock_from_environ(os.environ)
