"""The locks cover every pin of the human-edited requirements, with hashes, and agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
HINT = "run `make lock` after editing requirements*.txt (see the README)"


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().split("[", 1)[0]


def _inputs(path: Path) -> dict[str, str]:
    """name -> version of every ``==`` pin of a requirements file and the files it includes with ``-r``."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= _inputs(path.parent / line[3:].strip())
        elif "==" in line:
            name, version = line.split("==", 1)
            pins[_name(name)] = version.split(";", 1)[0].strip()
    return pins


def _lock(path: Path) -> dict[str, list[tuple[str, int]]]:
    """name -> [(version, number of hashes)] of a lock (a name can appear twice, under exclusive markers)."""
    entries: dict[str, list[tuple[str, int]]] = {}
    name = ""
    for line in path.read_text().splitlines():
        m = _ENTRY.match(line)
        if m:
            name = _name(m[1])
            entries.setdefault(name, []).append((m[2], 0))
        elif name and line.strip().startswith("--hash=sha256:"):
            version, count = entries[name][-1]
            entries[name][-1] = (version, count + 1)
    return entries


def test_every_pin_of_the_inputs_is_locked_at_its_version() -> None:
    for source, lock in (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")):
        locked = _lock(ROOT / lock)
        for name, version in _inputs(ROOT / source).items():
            versions = [v for v, _ in locked.get(name, [])]
            assert version in versions, f"{name}=={version} of {source} is not in {lock} ({versions}): {HINT}"


def test_every_locked_package_has_a_hash() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        for name, entries in _lock(ROOT / lock).items():
            assert all(count >= 1 for _, count in entries), f"{name} has no hash in {lock}: {HINT}"


def test_the_runtime_lock_installs_the_versions_the_tests_ran_with() -> None:
    runtime, dev = _lock(ROOT / "requirements.lock"), _lock(ROOT / "requirements-dev.lock")
    for name, entries in runtime.items():
        assert {v for v, _ in entries} <= {v for v, _ in dev.get(name, [])}, f"{name} differs between the locks: {HINT}"


def test_the_makefile_and_the_image_install_from_the_locks_with_hashes() -> None:
    for name in ("Makefile", "Dockerfile"):
        text = (ROOT / name).read_text()
        installs = [line.strip() for line in text.splitlines() if "install" in line and " -r " in line]
        assert installs, f"no install from a requirements file in the {name}"
        assert all("--require-hashes" in line and ".lock" in line for line in installs), (name, installs)
