"""A lock on the data directory: running app processes share it, a restore needs it alone.

Each app process (the Streamlit server with its in-process worker) holds a shared ``flock`` on
``<data dir>/app.lock`` for as long as it runs; the kernel drops it when the process ends, even on a crash,
so a lock is never left stale. ``restore`` takes the same lock exclusively and without waiting: while any
app process holds it, the restore is refused with a message saying how to stop the app, and while a restore
holds it, an app process refuses to start on the half-restored folder.

On systems without ``fcntl`` (Windows) the lock is a no-op: stop the app by hand before restoring.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, ClassVar

from backend.domain.errors import StoreUnavailable, ValidationFailed

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "app.lock"
STOP_THE_APP = (
    "Stop the app first — press Ctrl+C in the terminal running `make run` or `streamlit run`, "
    "`docker stop` its container, or stop its service (e.g. `systemctl stop`) — then run the restore again."
)


class DataDirLock:
    """The lock of one data directory (``app.lock``, created owner-only)."""

    # Locks this process holds, by resolved path: one shared lock per data dir is enough for a process.
    _held: ClassVar[dict[Path, IO[bytes]]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME

    def _open(self) -> IO[bytes]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return os.fdopen(fd, "r+b")

    def hold_shared(self) -> None:
        """Mark this process as running on the data dir until it exits (idempotent).

        Raises:
            StoreUnavailable: a restore into this data dir is in progress.
        """
        if fcntl is None:
            return
        key = self.path.resolve()
        with self._guard:
            if key in self._held:
                return
            handle = self._open()
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError as e:
                handle.close()
                raise StoreUnavailable(
                    f"A restore into {self.data_dir} is in progress; start the app again when it has finished."
                ) from e
            self._held[key] = handle

    def release_shared(self) -> None:
        """Give up this process's shared lock (tests, or an app shut down without exiting)."""
        with self._guard:
            handle = self._held.pop(self.path.resolve(), None)
        if handle is not None:
            handle.close()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the data dir alone (for a restore), refusing at once when an app process runs on it.

        Raises:
            ValidationFailed: an app process holds the lock; the message says how to stop it.
        """
        if fcntl is None:
            yield
            return
        handle = self._open()
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                raise ValidationFailed(f"The app is running on {self.data_dir}. {STOP_THE_APP}") from e
            yield
        finally:
            handle.close()  # closing drops the lock
