"""The dependency audit's index client against a local HTTP server speaking the index's JSON API."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module
    spec.loader.exec_module(module)
    return module


audit_deps = _module()
ADVISORY = {"id": "GHSA-0000-test", "fixed_in": ["2.0"], "aliases": ["CVE-2026-0001"], "withdrawn": None}
# project pages (latest release and its advisories) and the one release page this index serves
PAGES = {
    "/pypi/latestpkg/json": {"info": {"version": "1.0"}, "vulnerabilities": []},
    "/pypi/badpkg/json": {"info": {"version": "1.5"}, "vulnerabilities": [ADVISORY]},
    "/pypi/oldpkg/json": {"info": {"version": "9.0"}, "vulnerabilities": []},
    "/pypi/servedold/json": {"info": {"version": "3.0"}, "vulnerabilities": []},
    "/pypi/servedold/2.0/json": {"info": {"version": "2.0"}, "vulnerabilities": [ADVISORY]},
}


class _Index(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = PAGES.get(self.path)
        body = json.dumps(page).encode() if page is not None else b"{}"
        self.send_response(200 if page is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_latest_releases_and_served_release_pages_are_answered_others_are_not(index: str) -> None:
    pins = [("latestpkg", "1.0"), ("badpkg", "1.5"), ("oldpkg", "1.0"), ("servedold", "2.0"), ("gone", "1.0")]
    answers, note = audit_deps.ask_index(pins, index)
    assert answers[("latestpkg", "1.0")] == []
    assert [v.id for v in answers[("badpkg", "1.5")]] == ["GHSA-0000-test"]
    assert [v.id for v in answers[("servedold", "2.0")]] == ["GHSA-0000-test"]
    # an old pin whose release page the index does not serve, and an unknown project: not audited, not clean
    assert ("oldpkg", "1.0") not in answers and ("gone", "1.0") not in answers
    assert note == "package index: 3 of 5 pins answered"


def test_the_command_fails_on_a_vulnerable_pin_and_prints_what_was_not_audited(
    index: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("latestpkg==1.0 \\\n    --hash=sha256:aa\nbadpkg==1.5 \\\n    --hash=sha256:bb\noldpkg==1.0\n")
    code = audit_deps.main(
        ["--lock", str(lock), "--snapshot", str(tmp_path / "none.json"), "--index-json", index, "--no-osv"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "VULNERABLE badpkg==1.5: GHSA-0000-test (package index, fixed in 2.0)" in out
    assert "NOT AUDITED (1): oldpkg==1.0" in out


def test_an_unreachable_index_falls_back_to_the_snapshot_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("latestpkg==1.0\n")
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(
        json.dumps({"packages": {"latestpkg==1.0": {"checked": "2026-11-30", "source": "x", "vulns": []}}})
    )
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    url = f"http://127.0.0.1:{closed.server_address[1]}/pypi"
    closed.server_close()  # nothing listens there any more: connection refused
    assert audit_deps.main(["--lock", str(lock), "--snapshot", str(snapshot), "--index-json", url, "--no-osv"]) == 0
    out = capsys.readouterr().out
    assert "package index: no answer" in out
    assert "snapshot: 1 pins as checked live on or after 2026-11-30" in out
    assert out.rstrip().endswith("known vulnerabilities: none in the 1 audited pins")
