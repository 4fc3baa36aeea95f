"""Pages and UI modules reach patient data only through backend.services.

import-linter (``make lint``) forbids their imports of adapters and of the app's assembly, but an import contract
cannot see attribute access: ``app.stores.history.get(...)`` or ``app.blobs.get(...)`` in a page would read
records with no role check and no audit line. Here the source is parsed: the stores and blobs may only be handed,
as they are, to a service call.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PORTS = {"stores", "blobs"}
SCANNED = sorted([*(ROOT / "pages").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "streamlit_app.py"])


def port_uses(source: str) -> list[str]:
    """Each use of ``.stores`` / ``.blobs`` other than as a call's argument, as "line: code"."""
    tree = ast.parse(source)
    handed_on: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            handed_on.update(id(a) for a in [*node.args, *(k.value for k in node.keywords)])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in PORTS and id(node) not in handed_on:
            found.append(node)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in PORTS:
            found.append(node)  # a variable named stores/blobs being reached into
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and any(isinstance(a, ast.Constant) and a.value in PORTS for a in node.args)
        ):
            found.append(node)
    return [f"{n.lineno}: {ast.unparse(n)}" for n in sorted(found, key=lambda n: (n.lineno, n.col_offset))]


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_ui_touch_no_store_or_blob(path: Path) -> None:
    uses = port_uses(path.read_text(encoding="utf-8"))
    assert not uses, f"{path.relative_to(ROOT)} reaches into the stores/blobs; call a backend.services function: {uses}"


def test_the_scan_covers_the_pages() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SCANNED}
    assert {"pages/timeline.py", "ui/note_review.py", "ui/login.py", "streamlit_app.py"} <= names


@pytest.mark.parametrize(
    "code",
    [
        "entry = app.stores.history.get(pid, ts)",  # a read with no role check and no audit line
        "original = app.blobs.get(entry.document_key)",
        "users = get_app().stores.users.list_all()",
        "s = app.stores",  # kept for later use
        "f(app.stores.audit)",  # a part of the stores handed on
        "def f(stores):\n    return stores.notes.get(1, 2)",
        "getattr(app, 'blobs').get(key)",
    ],
)
def test_reaching_into_stores_or_blobs_is_found(code: str) -> None:
    assert port_uses(code)


@pytest.mark.parametrize(
    "code",
    [
        "note = get_note(app.stores, principal, pid, ts)",
        "report = import_metrics(principal, app.stores, app.blobs, pid, data, name)",
        "run(stores=app.stores, blobs=app.blobs)",
        "app.settings.data_dir",
    ],
)
def test_handing_them_to_a_service_is_allowed(code: str) -> None:
    assert port_uses(code) == []
