"""A real `streamlit run` on loopback with a fresh data dir, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.conftest import ROOT

CHROMIUM = os.environ.get("COPILOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
# Streamlit marks its root with the script's state; this counts the runs that finished (full or fragment), so a
# test can wait for "the run I caused is over" instead of for a length of time.
RUN_COUNTER = """
(() => {
  window.__streamlitRunsFinished = 0;
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.oldValue !== "notRunning" && r.target.getAttribute("data-test-script-state") === "notRunning") {
        window.__streamlitRunsFinished += 1;
      }
    }
  }).observe(document, {
    subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"],
  });
})();
"""
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning'][data-test-connection-state='CONNECTED']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "COPILOT_DATA_DIR": str(data_dir), "COPILOT_DEMO": "1", **(extra_env or {})}
    seeded = subprocess.run([sys.executable, "-m", "backend", "seed-demo"], cwd=ROOT, env=env, capture_output=True)
    if seeded.returncode != 0:
        raise RuntimeError(f"seed-demo failed ({seeded.returncode}): {seeded.stderr.decode(errors='replace')[-2000:]}")
    # A free port can be taken by another process before streamlit binds it (other test runs share the machine):
    # then streamlit exits at once ("Port N is not available"), and another free port is tried.
    for _ in range(3):
        proc, url = _launch(data_dir, env, free_port())
        try:
            wait_until_healthy(proc, url, data_dir / "streamlit.log")
            return proc, url
        except ServerExited:
            if b"is not available" not in (data_dir / "streamlit.log").read_bytes():
                raise
    raise RuntimeError(f"streamlit found no free port; see {data_dir / 'streamlit.log'}")


def _launch(data_dir: Path, env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], str]:
    log = (data_dir / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()  # the child holds its own copy
    return proc, f"http://127.0.0.1:{port}"


class ServerExited(RuntimeError):
    """The server process ended before it answered its health check."""


def wait_until_healthy(
    proc: subprocess.Popen[bytes], url: str, log: Path, context: ssl.SSLContext | None = None
) -> None:
    """Return as soon as the server at ``url`` answers its health check; kill it after a generous bound.

    The bound (180 s) is for a busy machine, not a budget: the wait ends at the server's first answer.
    """
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        # A server that exited cannot become healthy; and an answer on its port would come from someone else's.
        if proc.poll() is not None:
            raise ServerExited(f"streamlit exited with {proc.returncode} before it answered; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=context) as r:
                if r.status == 200 and proc.poll() is None:
                    return
        except OSError:
            time.sleep(0.3)  # polling a server that is starting (no event to wait on)
    proc.kill()
    raise RuntimeError(f"streamlit did not start; see {log}")


@pytest.fixture(scope="session")
def server_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One demo server for the session: (url, its data dir)."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    proc, url = start_server(data_dir)
    yield url, data_dir
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def server(server_info: tuple[str, Path]) -> str:
    return server_info[0]


@pytest.fixture(scope="session", autouse=True)
def _patient_expect() -> Iterator[None]:
    """``expect`` waits 5 s by default, less than one Streamlit rerun can take on a busy machine.

    A longer bound costs nothing when things work: each check ends as soon as the page shows what it expects.
    """
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=None)


@pytest.fixture(scope="session")
def pw() -> Iterator[Playwright]:
    """One Playwright driver per session (the sync API allows only one at a time in a thread)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(pw: Playwright) -> Iterator[Browser]:
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RUN_COUNTER)
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # a bound for a busy machine: every wait ends at its event
    yield pg
    context.close()


def login(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for()
    wait_first_page(page)


# The start page at "/" hands over to the role's first page in a second run; a click before that run has begun
# could be overtaken by it (the hand-over lands on the first page instead of the page clicked).
LEFT_START_PAGE = "() => window.location.pathname.replace(/\\/+$/, '') !== ''"


def wait_first_page(page: Page, timeout_ms: float = 120_000) -> None:
    """After signing in at "/": wait until the role's first page has taken over the address, then for its run."""
    page.wait_for_function(LEFT_START_PAGE, timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def wait_idle(page: Page, timeout_ms: float = 120_000) -> None:
    """Wait until no script run is in progress (connected, script state "notRunning", no status widget).

    Call it after seeing something the run you caused rendered (or before an auto-waiting step): a run that the
    server has not started yet looks idle too.
    """
    page.locator(APP_IDLE).wait_for(timeout=timeout_ms)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=timeout_ms)


def rerun_app(page: Page, timeout_ms: float = 120_000) -> None:
    """Rerun the whole script, as the R key does, and wait until that run has finished.

    Needs the :data:`RUN_COUNTER` init script in the page's context.
    """
    wait_idle(page, timeout_ms)
    before = page.evaluate("window.__streamlitRunsFinished")
    page.evaluate("document.activeElement && document.activeElement.blur()")  # R in a text box is just a letter
    page.keyboard.press("r")
    page.wait_for_function(f"window.__streamlitRunsFinished > {int(before)}", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def goto(page: Page, title: str) -> None:
    """Open a page from the sidebar (keeps the websocket session, hence the sign-in) and wait for it."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for()
    wait_idle(page)
