"""The dependency audit: a skipped or unreachable service is never "clean", a known advisory always fails."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


audit_deps = _module()
TODAY = date(2026, 12, 1)
PINS = [("jinja2", "3.1.6"), ("pyyaml", "6.0.3"), ("requests", "2.31.0")]


def test_pip_audit_skips_are_not_answers() -> None:
    # What pip-audit prints when its service cannot find a package: it still says "No known vulnerabilities".
    report = {
        "dependencies": [
            {"name": "absl-py", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            {"name": "Jinja2", "version": "3.1.6", "vulns": []},
            {
                "name": "requests",
                "version": "2.31.0",
                "vulns": [{"id": "GHSA-9wx4-h78v-vm56", "fix_versions": ["2.32.0"], "aliases": ["CVE-2024-35195"]}],
            },
        ]
    }
    answers = audit_deps.from_pip_audit(report)
    assert set(answers) == {("jinja2", "3.1.6"), ("requests", "2.31.0")}
    assert answers[("requests", "2.31.0")][0].fixed_in == ("2.32.0",)


def test_read_lock_takes_every_pin_once(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text(
        "PyYAML==6.0.3 \\\n    --hash=sha256:ab\n    # via moto\n"
        "pyee==13.0.1 ; python_full_version < '3.12' \\\n    --hash=sha256:cd\n"
        "pyee==16.1.0 ; python_full_version >= '3.12' \\\n    --hash=sha256:ef\n"
    )
    assert audit_deps.read_lock(lock) == [("pyee", "13.0.1"), ("pyee", "16.1.0"), ("pyyaml", "6.0.3")]


def _source(answers: dict, note: str = "live: answered"):  # type: ignore[no-untyped-def]
    return lambda missing: ({p: v for p, v in answers.items() if p in missing}, note)


def test_unreachable_sources_leave_pins_not_audited_and_do_not_fail() -> None:
    audit = audit_deps.audit_pins(PINS, [_source({}, "OSV: no answer"), _source({}, "index: no answer")], ({}, {}))
    lines, failed = audit_deps.report(PINS, audit, {}, TODAY)
    assert not failed
    assert any(line.strip().startswith("NOT AUDITED (3)") for line in lines), lines
    assert lines[-1] == "known vulnerabilities: none in the 0 audited pins"


def test_a_known_vulnerability_fails_whichever_source_knew_it() -> None:
    vuln = audit_deps.Vuln("GHSA-9wx4-h78v-vm56", ("2.32.0",))
    live = _source({("jinja2", "3.1.6"): []})
    snapshot = ({("requests", "2.31.0"): [vuln], ("pyyaml", "6.0.3"): []}, {p: "2026-11-20" for p in PINS})
    audit = audit_deps.audit_pins(PINS, [live], snapshot)
    lines, failed = audit_deps.report(PINS, audit, snapshot[1], TODAY)
    assert failed
    assert "  VULNERABLE requests==2.31.0: GHSA-9wx4-h78v-vm56 (snapshot, fixed in 2.32.0)" in lines
    assert audit.source[("jinja2", "3.1.6")] == "live"


def test_live_answers_win_over_the_snapshot_and_an_old_snapshot_is_called_old() -> None:
    old = ({p: [audit_deps.Vuln("OLD-1")] for p in PINS}, {p: "2026-09-01" for p in PINS})
    audit = audit_deps.audit_pins(PINS, [_source({("requests", "2.31.0"): []})], old)
    lines, failed = audit_deps.report(PINS, audit, old[1], TODAY)
    assert audit.found[("requests", "2.31.0")] == []
    assert any("over 30 days old" in line for line in lines)
    assert failed  # the two pins only the snapshot covers still carry its advisory


def test_the_snapshot_keeps_no_entry_for_pins_nobody_answered(tmp_path: Path) -> None:
    audit = audit_deps.audit_pins(PINS, [_source({("jinja2", "3.1.6"): []})], ({}, {}))
    doc = audit_deps.snapshot_document(audit, TODAY, {})
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    vulns, checked = audit_deps.load_snapshot(path)
    assert vulns == {("jinja2", "3.1.6"): []} and checked == {("jinja2", "3.1.6"): "2026-12-01"}


def test_index_pages_drop_withdrawn_advisories() -> None:
    page = {"vulnerabilities": [{"id": "A", "fixed_in": ["2"]}, {"id": "B", "withdrawn": "2025-01-01T00:00:00Z"}]}
    assert [v.id for v in audit_deps.index_vulns(page)] == ["A"]


def test_the_shipped_snapshot_reads_and_covers_locked_pins() -> None:
    vulns, checked = audit_deps.load_snapshot(audit_deps.SNAPSHOT)
    locked = set(audit_deps.read_lock(audit_deps.LOCK))
    assert len(set(vulns) & locked) >= len(locked) // 2
    assert all(date.fromisoformat(d) <= date.today() for d in checked.values())
