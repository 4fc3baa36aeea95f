"""A nurse signs in, registers a patient and finds them; every page is screenshotted."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, wait_idle


def test_login_register_and_search(server: str, page: Page, artifacts: Path) -> None:
    page.goto(server)
    expect(page.get_by_text("Demo accounts")).to_be_visible()
    expect(page.get_by_text("Ram Kumar")).to_have_count(0)  # no patient data before sign-in
    page.screenshot(path=str(artifacts / "page-login.png"), full_page=True)

    page.get_by_role("textbox", name="Username", exact=True).fill("nurse")
    page.get_by_role("textbox", name="Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()

    login(page, server, "nurse", "nurse-demo")
    page.get_by_role("tab", name="Register").click()
    page.get_by_role("textbox", name="Full name *", exact=True).fill("Zarina <b>Wahab</b>")
    page.get_by_role("textbox", name="Phone (mobile)", exact=True).fill("98450 12345")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Registered Zarina")).to_be_visible()
    expect(page.locator("b", has_text="Wahab")).to_have_count(0)  # markup shown as text, never rendered
    page.screenshot(path=str(artifacts / "page-patients-register.png"), full_page=True)

    page.get_by_role("tab", name="Find").click()
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("zar")
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("+91 98450 12345").first).to_be_visible()  # shown grouped as it is dialled
    page.screenshot(path=str(artifacts / "page-patients-find.png"), full_page=True)


def test_every_page_renders_for_the_doctor(server: str, page: Page, artifacts: Path) -> None:
    login(page, server, "doctor", "doctor-demo")
    titles = ["Dashboard", "Patients", "Scribe", "Digitize", "Timeline", "Health metrics", "Ask", "Admin"]
    for title in titles:
        # Streamlit keeps the sign-in in the websocket session: navigate with the sidebar, not by reloading the URL.
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        wait_idle(page)  # the page's run has shown its title; once it is over, an error it raised is on screen
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        page.screenshot(path=str(artifacts / f"page-{title.lower().replace(' ', '-')}.png"), full_page=True)
