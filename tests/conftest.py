"""Markers by folder, shared paths."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import backend  # noqa: F401  first: numpy's kernels are capped before any test module imports numpy

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("COPILOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
ARTIFACTS = ROOT / "test-artifacts"
# No test may read or write the developer's real OS keyring (the data key's optional home); subprocesses inherit it.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


TIERS = ("unit", "integration", "e2e")


def _tier(item: pytest.Item) -> str:
    return Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--order-seed",
        type=int,
        default=None,
        help="shuffle the tests within each tier with this seed, to find tests that depend on the order they run in",
    )


def _place(item: pytest.Item) -> tuple[int, int]:
    """Sort key: ``starts_first`` tests, then the tiers in order (anything outside them last)."""
    tier = TIERS.index(_tier(item)) if _tier(item) in TIERS else len(TIERS)
    return (0 if item.get_closest_marker("starts_first") else 1, tier)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier, and run the tiers in order: fast feedback first, and the browser tests last.

    Playwright's sync API leaves an asyncio event loop running on the main thread once it has run, so tests that
    start their own loop (ASGI calls, ``asyncio.run``) must not come after it. With ``--order-seed N`` the tests
    of each tier run in an order shuffled by N (the tiers keep their order; the same N gives the same order).

    ``make test`` runs two workers (pytest-xdist ``-n 2 --dist loadfile --no-loadscope-reorder``): each module
    goes to one worker whole (a module-scoped fixture, such as a server or a loaded model, is set up once), the
    modules are handed out in this order, and each worker runs what it is handed in this order, so the order above
    holds in every worker. A test marked ``starts_first`` (minutes long, and not on the main thread's event loop;
    alone in its module) runs before the tiers: the other worker's tests fill those minutes, instead of one worker
    running it alone at the end.
    """
    for item in items:
        if _tier(item) in TIERS:
            item.add_marker(getattr(pytest.mark, _tier(item)))
    seed = config.getoption("--order-seed")
    if seed is not None:
        random.Random(seed).shuffle(items)
    items.sort(key=_place)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"public evaluation data not found at {SHARED_DATA}; set COPILOT_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI a skip is a failure: every skip here means a missing tool or data set that `make test` must provide."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must provide everything: {report.longrepr}"
