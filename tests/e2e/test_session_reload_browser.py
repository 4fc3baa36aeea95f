"""Staying signed in, in a real browser: reload and links keep the page and patient; sign-out and idle end it.

Also the two HTTP-level defences around it: the session cookie is HttpOnly (scripts cannot read it) and
Streamlit's upload endpoint refuses files for a browser session that is not signed in.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import ROOT
from tests.e2e.conftest import RUN_COUNTER, free_port, start_server, wait_first_page, wait_idle, wait_until_healthy

PATIENT = "PAT_de000006"  # Lakshmi Iyer, a demo patient
COOKIE = "copilot_session"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UPLOAD = """async ([session, xsrf]) => {
  const form = new FormData();
  form.append("file", new Blob(["not a recording"]), "probe.wav");
  const r = await fetch(`/_stcore/upload_file/${session}/probe`, {
    method: "PUT", body: form, headers: {"X-Xsrftoken": xsrf}, credentials: "same-origin"});
  return [r.status, await r.text()];
}"""


def _context(browser: Browser, ignore_https_errors: bool = False) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=ignore_https_errors)
    context.add_init_script(RUN_COUNTER)
    context.set_default_timeout(60_000)  # a bound for a busy machine: every wait ends at its event
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    c = _context(browser)
    yield c
    c.close()


def _sign_in(page: Page, username: str, password: str) -> None:
    """Sign in on the page shown, and wait for the response that sets the session cookie."""
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    with page.expect_response(lambda r: r.url.endswith("/_copilot/session") and r.request.method == "POST") as bound:
        page.get_by_role("button", name="Sign in").click()
    assert bound.value.status == 204
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    wait_first_page(page)


def _session_cookie(context: BrowserContext) -> dict[str, object]:
    return next(dict(c) for c in context.cookies() if c["name"] == COOKIE)


def _on_patient_timeline(page: Page) -> None:
    expect(page.get_by_role("heading", name="Timeline").first).to_be_visible()
    expect(page.get_by_role("combobox", name="Patient")).to_have_value(re.compile(PATIENT))
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("metformin")  # her active medications
    assert page.url.endswith(f"/timeline?patient={PATIENT}")


def _reload_keeps_session_and_patient(page: Page, username: str, shot: Path) -> None:
    # A reload is a new Streamlit session: the cookie brings the sign-in back, the address the patient.
    page.reload()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    _on_patient_timeline(page)
    wait_idle(page)
    page.screenshot(path=str(shot), full_page=True)


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _shows_sign_in(page: Page) -> None:
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_nurse_reload_keeps_page_and_patient_and_sign_out_ends_it(
    server: str, context: BrowserContext, browser: Browser, artifacts: Path
) -> None:
    page = context.new_page()
    page.goto(server)
    _sign_in(page, "nurse", "nurse-demo")
    cookie = _session_cookie(context)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert COOKIE not in page.evaluate("document.cookie")  # page scripts (and so XSS) cannot read it

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Timeline").click()
    # The page before it has a "Find patient" box too: type only once the Timeline's own run has finished.
    page.wait_for_url("**/timeline")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("lakshmi")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/timeline?patient={PATIENT}")  # the chosen patient is in the address
    _on_patient_timeline(page)

    _reload_keeps_session_and_patient(page, "nurse", artifacts / "session-reload-nurse.png")

    _sign_out(page)
    page.reload()
    _shows_sign_in(page)
    # The browser still holds the cookie: the server ended the session it names, so it opens nothing, also in
    # another browser it is copied into.
    stale = _session_cookie(context)
    assert stale["value"] == cookie["value"]
    thief = _context(browser)
    try:
        thief.add_cookies([{"name": COOKIE, "value": str(stale["value"]), "url": server}])
        other = thief.new_page()
        other.goto(f"{server}/timeline?patient={PATIENT}")
        _shows_sign_in(other)
    finally:
        thief.close()


def test_doctor_link_then_reload_keeps_page_and_patient(server: str, context: BrowserContext, artifacts: Path) -> None:
    # Signed out, a link to a page shows the sign-in page at that address; signing in opens the page itself.
    page = context.new_page()
    page.goto(f"{server}/timeline?patient={PATIENT}")
    _shows_sign_in(page)
    assert not any(c["name"] == COOKIE for c in context.cookies())
    _sign_in(page, "doctor", "doctor-demo")
    _on_patient_timeline(page)
    signed_in = _session_cookie(context)["value"]

    # The same link in a new tab of the same browser: already signed in.
    tab = context.new_page()
    tab.goto(f"{server}/timeline?patient={PATIENT}")
    expect(tab.get_by_text("Signed in as doctor")).to_be_visible()
    _on_patient_timeline(tab)
    _reload_keeps_session_and_patient(tab, "doctor", artifacts / "session-reload-doctor.png")

    # Signing in again (after signing out) gets a new session id: the cookie is rotated.
    _sign_out(tab)
    _sign_in(tab, "doctor", "doctor-demo")
    assert _session_cookie(context)["value"] != signed_in
    # The first tab's session was the one signed out: its next action says so.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Patients").click()
    _shows_sign_in(page)
    expect(page.get_by_text("signed out in another tab")).to_be_visible()


def test_uploads_are_refused_until_the_tab_is_signed_in(server: str, context: BrowserContext) -> None:
    page = context.new_page()
    candidates: set[str] = set()  # the tab's Streamlit session id is one of the ids its websocket carries
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: candidates.update(
                m.decode() for m in UUID.findall(payload if isinstance(payload, bytes) else payload.encode())
            ),
        ),
    )
    page.goto(server)
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    wait_idle(page)
    xsrf = next(c["value"] for c in context.cookies() if c["name"] == "_streamlit_xsrf")
    assert candidates
    before = {s: page.evaluate(UPLOAD, [s, xsrf]) for s in sorted(candidates)}
    assert all(r == [403, "Sign in before uploading files."] for r in before.values()), before

    _sign_in(page, "nurse", "nurse-demo")
    after = {s: page.evaluate(UPLOAD, [s, xsrf]) for s in sorted(before)}
    accepted = [s for s, r in after.items() if r[0] == 204]
    assert len(accepted) == 1, after  # this tab's session, and only it, may upload now

    _sign_out(page)
    assert page.evaluate(UPLOAD, [accepted[0], xsrf])[0] == 403


@pytest.fixture(scope="module")
def short_idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server whose idle limit is one minute, timed by a test clock: (url, the file that moves its clock).

    The server's session clock is the real time plus the seconds written in that file (``backend.services.clock``,
    switched on only by this environment variable), so the test moves time instead of waiting it out.
    """
    data_dir = tmp_path_factory.mktemp("e2e-idle")
    clock_file = data_dir / "clock"
    proc, url = start_server(
        data_dir, {"COPILOT_SESSION_IDLE_MINUTES": "1", "COPILOT_TEST_CLOCK_FILE": str(clock_file)}
    )
    yield url, clock_file
    proc.terminate()
    proc.wait(timeout=20)


def _move_server_clock(clock_file: Path, seconds: float) -> None:
    clock_file.write_text(str(seconds))
    clock_file.chmod(0o600)  # the server ignores a clock file that others may write


def test_an_idle_session_is_not_revived_by_a_reload(
    short_idle_server: tuple[str, Path], context: BrowserContext
) -> None:
    url, clock_file = short_idle_server
    page = context.new_page()
    page.goto(f"{url}/patients")
    _sign_in(page, "nurse", "nurse-demo")
    cookie = _session_cookie(context)
    # Within the limit a reload keeps the session (so what ends it below is the time that passed, nothing else).
    _move_server_clock(clock_file, 30)
    page.reload()
    expect(page.get_by_text("Signed in as nurse")).to_be_visible()
    wait_idle(page)
    # The subject here is elapsed time itself: over a minute passes on the server's clock with nothing done in
    # the browser (any longer pause gives the same result), then the page reloads.
    _move_server_clock(clock_file, 30 + 62)
    page.reload()
    _shows_sign_in(page)
    expect(page.get_by_text("signed out after a period of inactivity")).to_be_visible()
    assert _session_cookie(context)["value"] == cookie["value"]  # the browser sent it; the server refused it
    page.reload()  # and the refusal is final, not a one-off
    _shows_sign_in(page)
    expect(page.get_by_text("signed out after a period of inactivity")).to_have_count(0)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made here (no network), so the app can serve TLS itself."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app serving HTTPS itself (as behind a TLS proxy, the browser sees https)."""
    data_dir = tmp_path_factory.mktemp("e2e-tls")
    cert, key = _self_signed(data_dir)
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(data_dir),
        "COPILOT_DEMO": "1",
        "STREAMLIT_SERVER_SSL_CERT_FILE": str(cert),
        "STREAMLIT_SERVER_SSL_KEY_FILE": str(key),
    }
    seeded = subprocess.run([sys.executable, "-m", "backend", "seed-demo"], cwd=ROOT, env=env, capture_output=True)
    assert seeded.returncode == 0, seeded.stderr.decode(errors="replace")[-2000:]
    port = free_port()
    with (data_dir / "streamlit.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"https://127.0.0.1:{port}"
    wait_until_healthy(proc, url, data_dir / "streamlit.log", ssl.create_default_context(cafile=str(cert)))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_over_https_the_cookie_is_secure_and_host_prefixed(tls_server: str, browser: Browser) -> None:
    context = _context(browser, ignore_https_errors=True)  # the test's own certificate
    try:
        page = context.new_page()
        page.goto(f"{tls_server}/timeline?patient={PATIENT}")
        _sign_in(page, "doctor", "doctor-demo")
        cookies = {c["name"]: c for c in context.cookies()}
        assert COOKIE not in cookies
        host = cookies["__Host-copilot_session"]
        assert host["secure"] and host["httpOnly"] and host["sameSite"] == "Strict" and host["path"] == "/"
        page.reload()
        expect(page.get_by_text("Signed in as doctor")).to_be_visible()
        _on_patient_timeline(page)
        # Over https a cookie without the prefix (one a sibling subdomain could plant) opens nothing.
        planted = _context(browser, ignore_https_errors=True)
        try:
            planted.add_cookies([{"name": COOKIE, "value": str(host["value"]), "url": tls_server}])
            other = planted.new_page()
            other.goto(tls_server)
            _shows_sign_in(other)
        finally:
            planted.close()
    finally:
        context.close()
