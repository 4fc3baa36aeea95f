"""``<data dir>/encryption.json``: says that a data folder is encrypted, and with which key (by its public id).

It holds no secret. Written last by ``encrypt-data`` (so an interrupted run is never taken for a finished one)
and first in a new encrypted folder, it lets the app tell "no key", "wrong key" and "damaged file" apart
before it opens or writes anything.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.adapters.crypto.errors import DataKeyError

MARKER_NAME = "encryption.json"
PENDING_NAME = "encryption-pending.json"  # written when ``encrypt-data`` starts, removed when it has finished
FORMAT = 1


@dataclass(frozen=True)
class Marker:
    """What the marker file records."""

    key_id: str
    format: int = FORMAT
    database: str = "sqlcipher 4 (raw 256-bit key)"
    blobs: str = "aes-256-gcm, 1 MiB segments, format 1"


def read_marker(data_dir: Path, name: str = MARKER_NAME) -> Marker | None:
    """The marker of ``data_dir``, or None when the folder is not (yet) encrypted.

    Args:
        data_dir: the data folder.
        name: ``MARKER_NAME``, or ``PENDING_NAME`` for the mark of an unfinished ``encrypt-data`` run.

    Raises:
        DataKeyError: the marker exists but cannot be read.
    """
    path = Path(data_dir) / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        marker = Marker(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as e:
        raise DataKeyError(
            f"{path} is damaged. It should hold the id of this folder's data key; restore it from a backup."
        ) from e
    if marker.format != FORMAT:
        raise DataKeyError(f"{path} is of format {marker.format}; this version reads format {FORMAT}. Update the app.")
    return marker


def write_marker(data_dir: Path, marker: Marker, name: str = MARKER_NAME) -> None:
    """Write the marker atomically (temp file, fsync, rename, fsync of the folder), readable by its owner only."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".tmp-marker-")  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(asdict(marker), indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, data_dir / name)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_dir(data_dir)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
