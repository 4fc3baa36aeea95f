"""One way to run the real Streamlit app under AppTest: a fresh data dir, its accounts, a signed-in page.

AppTest scripts read their configuration from the environment (the page's services are built by
``streamlit_app.py`` itself), so the data dir is set as ``COPILOT_DATA_DIR`` for the whole module and the
resource cache is cleared on the way in and out: a module never sees another module's app.

Usage in a test module::

    app = app_fixture("review-roles", users={"nurse": Role.NURSE})

    def test_x(app: App) -> None:
        at = open_page("scribe", Principal("nurse", Role.NURSE), patient_id)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.services.access import Principal
from tests.conftest import ROOT

TIMEOUT_S = 60  # a bound for the first run, which imports the whole app


@contextmanager
def app_data_dir(
    path: Path,
    *,
    users: Mapping[str, Role] | None = None,
    demo_data: bool = False,
    demo_days: int = 90,
    env: Mapping[str, str] | None = None,
) -> Iterator[App]:
    """An app on a fresh SQLite data dir at ``path``, the offline engines, and the given accounts.

    Args:
        path: an empty folder for the database and blobs.
        users: usernames and roles to create (each AppTest run checks that the session's account exists).
        demo_data: seed the demo patients, notes and accounts (what ``make run`` shows).
        demo_days: days of wearable data of each demo patient (fewer seed faster).
        env: more settings for the app and its AppTest runs, e.g. ``{"COPILOT_DEMO": "1"}`` (the sign-in page
            then says it is a demo).
    """
    from backend.services import auth
    from backend.services.demo import seed_demo

    with app_env(path, {"COPILOT_DEMO": "0", "COPILOT_LLM": "offline", **(env or {})}):
        app = build_app(Settings())
        if demo_data:
            seed_demo(app.stores, days=demo_days)
        for username, role in (users or {}).items():
            auth.add_user(app.stores, username, f"{username}-password", role)
        yield app


@contextmanager
def app_env(path: Path, env: Mapping[str, str] | None = None) -> Iterator[Path]:
    """The settings an app run by AppTest reads, for the block: data dir ``path``, ``env``, the repo as cwd.

    The resource cache (the app's services) is cleared on the way in and out, so the block's app is built from
    these settings and no later test sees it. Nothing is created in ``path``: a test of a first start gets an
    empty folder.
    """
    mp = pytest.MonkeyPatch()
    mp.setenv("COPILOT_DATA_DIR", str(path))
    for name, value in (env or {}).items():
        mp.setenv(name, value)
    mp.chdir(ROOT)
    import streamlit as st

    st.cache_resource.clear()
    try:
        yield path
    finally:
        st.cache_resource.clear()
        mp.undo()


def app_fixture(
    label: str, *, users: Mapping[str, Role] | None = None, demo_data: bool = False, autouse: bool = False
) -> Callable[..., Iterator[App]]:
    """A module-scoped ``app`` fixture over :func:`app_data_dir`; assign it to a module-level name."""

    @pytest.fixture(scope="module", autouse=autouse)
    def _app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
        with app_data_dir(tmp_path_factory.mktemp(label), users=users, demo_data=demo_data) as app:
            yield app

    return _app


def open_page(page: str, principal: Principal, patient_id: str | None = None) -> AppTest:
    """The real app, signed in as ``principal`` with ``patient_id`` selected, switched to ``pages/<page>.py``.

    Fails the test if the page raised.
    """
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.session_state["auth_principal"] = principal
    if patient_id is not None:
        at.session_state["selected_patient_id"] = patient_id
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def run_function(function: Callable[..., Any], *args: Any) -> AppTest:
    """A widget function (``ui.*``) run alone under AppTest, with ``args``; fails the test if it raised."""
    at = AppTest.from_function(function, args=args, default_timeout=TIMEOUT_S).run()
    assert not at.exception, at.exception
    return at
