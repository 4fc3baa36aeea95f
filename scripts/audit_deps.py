"""Known vulnerabilities of every locked package: live when a vulnerability service answers, else a dated snapshot.

Sources, in order, per pinned package of the lock:

1. ``pip-audit`` against the OSV database (every version of every package).
2. The package index's JSON API: a project's page lists the vulnerabilities of its *latest* release, so it
   answers for pins that are the latest release (and for older pins where the index serves release pages).
3. The snapshot shipped in the repository (``security/vulnerability-snapshot.json``), with the date each pin
   was last checked live: used only for pins that no live source answered for.

A pin with a known, not withdrawn vulnerability fails the audit (exit 1). A pin that no source covers is
listed as *not audited* and does not fail it: an unreachable service is not a finding, and saying "clean"
would be a lie. ``--write-snapshot`` stores today's live answers (run it where a service is reachable).

    .venv/bin/python scripts/audit_deps.py [--lock requirements-dev.lock] [--write-snapshot]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess  # nosec B404: runs pip-audit, a fixed command without a shell
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-dev.lock"
SNAPSHOT = ROOT / "security" / "vulnerability-snapshot.json"
STALE_DAYS = 30
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")

Pin = tuple[str, str]  # (normalised name, version)


@dataclass(frozen=True)
class Vuln:
    """One advisory affecting a pin."""

    id: str
    fixed_in: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass
class Audit:
    """What each source said: pins audited (with their advisories and where the answer came from)."""

    found: dict[Pin, list[Vuln]] = field(default_factory=dict)
    source: dict[Pin, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, pin: Pin, vulns: list[Vuln], source: str) -> None:
        if pin not in self.found:
            self.found[pin], self.source[pin] = vulns, source


def normalise(name: str) -> str:
    """PEP 503 name: 'PyYAML' and 'pyyaml', 'fhir.resources' and 'fhir-resources' are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> list[Pin]:
    """Every ``name==version`` of a lock file (markers and hashes ignored), sorted, without repeats."""
    pins = {(normalise(m[1]), m[2]) for line in path.read_text().splitlines() if (m := _PIN.match(line))}
    return sorted(pins)


def from_pip_audit(report: dict[str, Any]) -> dict[Pin, list[Vuln]]:
    """The pins pip-audit really audited; skipped ones (service did not know them) are left out."""
    out: dict[Pin, list[Vuln]] = {}
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason") or "version" not in dep:
            continue
        vulns = [
            Vuln(str(v["id"]), tuple(v.get("fix_versions") or ()), tuple(v.get("aliases") or ()))
            for v in dep.get("vulns", [])
        ]
        out[(normalise(dep["name"]), str(dep["version"]))] = vulns
    return out


def run_pip_audit(lock: Path, timeout: int = 15) -> tuple[dict[Pin, list[Vuln]], str]:
    """(answers, note) of ``pip-audit`` over the lock against OSV; no answers when the service is unreachable."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = [
            *(sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--require-hashes", "--disable-pip"),
            *("--vulnerability-service", "osv", "--timeout", str(timeout), "--progress-spinner", "off"),
            *("--format", "json", "--output", str(out)),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603  # nosec B603
        if not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {}, f"OSV (pip-audit): no answer ({last[:160]})"
        answers = from_pip_audit(json.loads(out.read_text()))
    return answers, f"OSV (pip-audit): {len(answers)} pins answered"


def index_vulns(document: dict[str, Any]) -> list[Vuln]:
    """Advisories of an index JSON page, without withdrawn ones."""
    return [
        Vuln(str(v["id"]), tuple(v.get("fixed_in") or ()), tuple(v.get("aliases") or ()))
        for v in document.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


def _get_json(url: str, timeout: float) -> dict[str, Any] | None:
    """The JSON document at ``url``; None when the index has no such page (404)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  # nosec B310: https or a test's loopback
            return dict(json.load(response))
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def ask_index(pins: list[Pin], json_api: str, timeout: float = 10.0) -> tuple[dict[Pin, list[Vuln]], str]:
    """(answers, note) from the index's JSON API: project pages for latest releases, release pages otherwise."""
    base = json_api.rstrip("/")

    def one(pin: Pin) -> tuple[Pin, list[Vuln] | None]:
        name, version = pin
        project = _get_json(f"{base}/{name}/json", timeout)
        if project is not None and project.get("info", {}).get("version") == version:
            return pin, index_vulns(project)
        release = _get_json(f"{base}/{name}/{version}/json", timeout)
        return pin, None if release is None else index_vulns(release)

    if not pins:
        return {}, "package index: nothing to ask"
    try:
        first = [one(pins[0])]
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
        return {}, f"package index: no answer ({getattr(e, 'reason', e)})"
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = first + list(pool.map(_tolerant(one), pins[1:]))
    answers = {pin: vulns for pin, vulns in results if vulns is not None}
    return answers, f"package index: {len(answers)} of {len(pins)} pins answered"


def _tolerant(one: Callable[[Pin], tuple[Pin, list[Vuln] | None]]) -> Callable[[Pin], tuple[Pin, list[Vuln] | None]]:
    def call(pin: Pin) -> tuple[Pin, list[Vuln] | None]:
        try:
            return one(pin)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return pin, None

    return call


def load_snapshot(path: Path) -> tuple[dict[Pin, list[Vuln]], dict[Pin, str]]:
    """(advisories, date checked) per pin of a snapshot file; empty when there is none."""
    if not path.exists():
        return {}, {}
    doc = json.loads(path.read_text())
    vulns: dict[Pin, list[Vuln]] = {}
    checked: dict[Pin, str] = {}
    for key, entry in doc.get("packages", {}).items():
        name, _, version = key.partition("==")
        pin = (normalise(name), version)
        vulns[pin] = [Vuln(v["id"], tuple(v.get("fixed_in", ())), tuple(v.get("aliases", ()))) for v in entry["vulns"]]
        checked[pin] = entry["checked"]
    return vulns, checked


def snapshot_document(audit: Audit, today: date, previous: dict[Pin, str]) -> dict[str, Any]:
    """The snapshot to store: today's live answers; pins nobody answered keep no entry (never 'clean')."""
    packages = {
        f"{name}=={version}": {
            "checked": today.isoformat() if audit.source[(name, version)] != "snapshot" else previous[(name, version)],
            "source": audit.source[(name, version)],
            "vulns": [{"id": v.id, "fixed_in": list(v.fixed_in), "aliases": list(v.aliases)} for v in vulns],
        }
        for (name, version), vulns in sorted(audit.found.items())
    }
    return {
        "written": today.isoformat(),
        "note": "Known vulnerabilities of the locked pins as last checked live; see SECURITY.md.",
        "packages": packages,
    }


def audit_pins(
    pins: list[Pin],
    live: Iterable[Callable[[list[Pin]], tuple[dict[Pin, list[Vuln]], str]]],
    snapshot: tuple[dict[Pin, list[Vuln]], dict[Pin, str]],
) -> Audit:
    """Ask each live source about the pins still unanswered, then fill the rest from the snapshot."""
    audit = Audit()
    for source in live:
        missing = [p for p in pins if p not in audit.found]
        if not missing:
            break
        answers, note = source(missing)
        audit.notes.append(note)
        label = note.split(":", 1)[0]
        for pin in missing:
            if pin in answers:
                audit.add(pin, answers[pin], label)
    old_vulns = snapshot[0]
    for pin in pins:
        if pin not in audit.found and pin in old_vulns:
            audit.add(pin, old_vulns[pin], "snapshot")
    return audit


def report(pins: list[Pin], audit: Audit, checked: dict[Pin, str], today: date) -> tuple[list[str], bool]:
    """(lines to print, failed): failed when an audited pin has a known vulnerability."""
    lines = [f"dependency audit of {len(pins)} locked pins"] + [f"  {n}" for n in audit.notes]
    from_snapshot = [p for p in pins if audit.source.get(p) == "snapshot"]
    if from_snapshot:
        oldest = min(checked[p] for p in from_snapshot)
        age = (today - date.fromisoformat(oldest)).days
        lines.append(f"  snapshot: {len(from_snapshot)} pins as checked live on or after {oldest} ({age} days ago)")
        if age > STALE_DAYS:
            lines.append(f"  WARNING: the snapshot is over {STALE_DAYS} days old; refresh it where a service answers")
    unaudited = [p for p in pins if p not in audit.found]
    if unaudited:
        lines.append(f"  NOT AUDITED ({len(unaudited)}): " + ", ".join(f"{n}=={v}" for n, v in unaudited))
    bad = {p: v for p, v in audit.found.items() if v}
    for (name, version), vulns in sorted(bad.items()):
        for v in vulns:
            fix = f", fixed in {', '.join(v.fixed_in)}" if v.fixed_in else ", no fixed release"
            lines.append(f"  VULNERABLE {name}=={version}: {v.id} ({audit.source[(name, version)]}{fix})")
    lines.append(
        f"known vulnerabilities: {sum(len(v) for v in bad.values())} in {len(bad)} pins"
        if bad
        else f"known vulnerabilities: none in the {len(audit.found)} audited pins"
    )
    return lines, bool(bad)


def default_json_api() -> str:
    """The JSON API of the index pip uses by default (taken from pip, so it is written down in one place)."""
    from pip._internal.models.index import PyPI

    return str(PyPI.pypi_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--index-json", default=None, help="the index's JSON API (default: pip's default index)")
    parser.add_argument("--no-osv", action="store_true", help="skip pip-audit (OSV)")
    parser.add_argument("--write-snapshot", action="store_true", help="store today's live answers as the snapshot")
    args = parser.parse_args(argv)
    pins = read_lock(args.lock)
    index = args.index_json or default_json_api()
    live: list[Callable[[list[Pin]], tuple[dict[Pin, list[Vuln]], str]]] = []
    if not args.no_osv:
        live.append(lambda _missing: run_pip_audit(args.lock))
    live.append(lambda missing: ask_index(missing, index))
    old = load_snapshot(args.snapshot)
    today = date.today()
    audit = audit_pins(pins, live, old)
    lines, failed = report(pins, audit, old[1], today)
    print("\n".join(lines))
    if args.write_snapshot:
        args.snapshot.parent.mkdir(parents=True, exist_ok=True)
        doc = snapshot_document(audit, today, old[1])
        args.snapshot.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"snapshot written: {len(doc['packages'])} pins")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
