"""Every page opens at its own address, the role's first page too, and "/" still opens the role's first page.

Streamlit serves its default page at "/" only; the first page of a role used to be that default, so typing
``/dashboard`` (a doctor) or ``/patients`` (a nurse) showed "Page not found" before the page opened.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RUN_COUNTER, wait_idle

# Counts every change of the page while "Page not found" is on it: a dialog shown for a moment counts too.
NOT_FOUND_WATCH = """
(() => {
  window.__notFoundSeen = 0;
  new MutationObserver(() => {
    if (document.body && document.body.innerText.includes("Page not found")) window.__notFoundSeen += 1;
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


@pytest.fixture
def watched(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(RUN_COUNTER)
    context.add_init_script(NOT_FOUND_WATCH)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a bound for a busy machine: every wait ends at its event
    yield page
    context.close()


def _sign_in(page: Page, username: str) -> None:
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(f"{username}-demo")
    # The typed addresses below are new sessions: wait for the response that sets the session cookie.
    with page.expect_response(lambda r: r.url.endswith("/_copilot/session") and r.request.method == "POST") as bound:
        page.get_by_role("button", name="Sign in").click()
    assert bound.value.status == 204
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def _opens(page: Page, path: str, title: str) -> None:
    expect(page.get_by_role("heading", name=title).first).to_be_visible()
    wait_idle(page)
    assert page.url.split("?")[0].endswith(path)
    assert page.evaluate("window.__notFoundSeen") == 0


@pytest.mark.parametrize(
    ("username", "first", "title", "other", "other_title"),
    [
        ("doctor", "/dashboard", "Dashboard", "/ask", "Ask"),
        ("nurse", "/patients", "Patients", "/timeline", "Timeline"),
        ("admin", "/admin", "Admin", "/admin", "Admin"),
    ],
)
def test_each_page_opens_at_its_address(
    server: str, watched: Page, username: str, first: str, title: str, other: str, other_title: str
) -> None:
    page = watched
    # Signed out, the first page's address shows the sign-in page; signing in opens that page.
    page.goto(f"{server}{first}")
    _sign_in(page, username)
    _opens(page, first, title)
    # Typed again (a new session, signed in by the cookie), and another page's address.
    page.goto(f"{server}{first}")
    _opens(page, first, title)
    page.goto(f"{server}{other}")
    _opens(page, other, other_title)
    # "/" opens the role's first page and moves the address to it, keeping the query (a patient link).
    page.goto(f"{server}/?patient=PAT_de000006")
    _opens(page, first, title)
    assert "patient=PAT_de000006" in page.url
