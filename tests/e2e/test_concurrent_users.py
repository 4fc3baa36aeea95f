"""Ten people at once: 10 browser contexts in one chromium, each signed in as a different user, against one
`streamlit run` on loopback. Three nurses upload consultations, three digitize prescriptions, four doctors browse
timelines until every upload has been handled (and at least a fixed number of times). Every action must succeed,
no one may see another session's patient or results, and the p95 page response (action -> Streamlit idle with the
expected content) is reported and written to test-artifacts/concurrency.json; it is measured, never asserted, so
a busy machine makes the run slower but not red.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import JobStatus, Role
from backend.services.auth import add_user
from backend.services.demo import seed_demo
from tests.conftest import ROOT
from tests.e2e.conftest import APP_IDLE, CHROMIUM, CHROMIUM_ARGS, LEFT_START_PAGE, start_server
from tests.helpers.prescriptions import render_prescription
from tests.helpers.speech import synth_wav

MODEL = ROOT / "data" / "models" / "faster-whisper-base"
# Everyone browses at least this many times, and the doctors go on until every upload is handled, so the heavy
# work always runs under the browsing load (whatever the machine's speed).
MIN_BROWSE_TURNS = 4
PASSWORD = "concurrency-pass-1"
# Bounds for a busy 2-core machine (whisper and OCR share it with ten sessions); each wait ends at its event.
SLOW_MS = 900_000


@dataclass
class User:
    name: str
    role: Role
    task: str  # scribe | digitize | browse
    patient: str
    drug: str = ""
    times: list[tuple[str, float]] = field(default_factory=list)
    actions: int = 0
    browse_turns: int = 0
    finished: bool = False


USERS = [
    User("scribe1", Role.NURSE, "scribe", "Ram Kumar", "paracetamol"),
    User("scribe2", Role.NURSE, "scribe", "Sita Devi", "amoxicillin"),
    User("scribe3", Role.DOCTOR, "scribe", "Arjun Sharma", "metformin"),
    User("digitize1", Role.NURSE, "digitize", "Priya Nair", "Metformin 500 mg"),
    User("digitize2", Role.NURSE, "digitize", "Mohammed Iqbal", "Amlodipine 5 mg"),
    User("digitize3", Role.NURSE, "digitize", "Lakshmi Iyer", "Atorvastatin 10 mg"),
    User("browse1", Role.DOCTOR, "browse", "Rahul Verma"),
    User("browse2", Role.DOCTOR, "browse", "Fatima Begum"),
    User("browse3", Role.DOCTOR, "browse", "Suresh Reddy"),
    User("browse4", Role.DOCTOR, "browse", "Anita Desai"),
]
OTHER_PATIENTS = {u.name: [o.patient for o in USERS if o.patient != u.patient] for u in USERS}


async def _idle(page: Page) -> None:
    """No run in progress (see ``tests.e2e.conftest.wait_idle``: call it once the run you caused has shown)."""
    await page.locator(APP_IDLE).wait_for(timeout=SLOW_MS)
    await page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=SLOW_MS)


async def _timed(
    user: User, what: str, action: Callable[[], Awaitable[None]], check: Callable[[], Awaitable[None]]
) -> None:
    started = time.monotonic()
    await action()
    await check()  # first what the run shows, then the end of that run (an idle page before it began proves nothing)
    await _idle(user_page[user.name])
    user.times.append((what, time.monotonic() - started))
    user.actions += 1


user_page: dict[str, Page] = {}


async def _goto(user: User, title: str) -> None:
    page = user_page[user.name]
    await _timed(
        user,
        f"open {title}",
        lambda: page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click(),
        lambda: expect(page.get_by_role("heading", name=title).first).to_be_visible(),
    )


async def _choose_patient(user: User) -> None:
    page = user_page[user.name]
    box = page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True)

    async def search() -> None:
        await box.fill(user.patient.lower())
        await box.press("Enter")

    await _timed(user, "find patient", search, lambda: _shows_patient(page, user.patient))


async def _selected(page: Page) -> str:
    """The chosen patient as a screen reader hears it (the selectbox's value is not its inner text)."""
    boxes = page.get_by_test_id("stSelectbox")
    return await boxes.first.aria_snapshot() if await boxes.count() else ""


async def _shows_patient(page: Page, name: str, timeout: float = SLOW_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while name not in await _selected(page):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is not the selected patient: {await _selected(page)!r}")
        await page.wait_for_timeout(200)


async def _no_foreign_state(user: User) -> None:
    """Nothing of another session on this user's screen: not their patient, not their name, not their results."""
    page = user_page[user.name]
    body = await page.locator("[data-testid='stMain']").inner_text()
    sidebar = await page.locator("[data-testid='stSidebar']").inner_text()
    assert f"Signed in as {user.name}" in sidebar, sidebar[:300]
    for other in USERS:
        if other.name != user.name:
            assert f"Signed in as {other.name}" not in sidebar
    selected = await _selected(page)
    for name in OTHER_PATIENTS[user.name]:
        assert name not in selected, f"{user.name} sees {name} selected"
    if user.task == "digitize":
        for other in USERS:
            if other.task == "digitize" and other is not user:
                assert other.drug.split()[0].lower() not in body.lower(), f"{user.name} sees {other.name}'s document"


async def _login(user: User, url: str) -> None:
    page = user_page[user.name]
    await page.goto(url)
    await page.get_by_role("textbox", name="Username", exact=True).fill(user.name)
    await page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    await _timed(
        user,
        "sign in",
        lambda: page.get_by_role("button", name="Sign in").click(),
        lambda: _signed_in(page, user.name),
    )


async def _signed_in(page: Page, username: str) -> None:
    await expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    await page.wait_for_function(LEFT_START_PAGE, timeout=SLOW_MS)  # the first page has the address (see conftest)


async def _upload(user: User, path: str, button: str) -> None:
    """Choose the file once the page's last run is over (an upload into a page being rerun can be dropped)."""
    page = user_page[user.name]
    await _idle(page)
    await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    await expect(page.get_by_role("button", name=button)).to_be_visible(timeout=SLOW_MS)


async def _scribe(user: User, files: Path) -> None:
    page = user_page[user.name]
    await _goto(user, "Scribe")
    await _choose_patient(user)
    await page.get_by_role("tab", name="Upload audio").click()
    await _upload(user, str(files / f"{user.name}.wav"), "Create draft from file")
    await _timed(
        user,
        "submit recording",
        lambda: page.get_by_role("button", name="Create draft from file").click(),
        lambda: expect(page.get_by_text("Recording saved.")).to_be_visible(),
    )
    await expect(page.get_by_text("ready for review").first).to_be_visible(timeout=SLOW_MS)
    # The status shows in the poll's run, which then reruns the page to open the draft (a click before that run
    # could be taken back to this page by it): the draft is open for review, and the submit's message gone.
    await expect(page.get_by_text(f"author {user.name}")).to_be_visible(timeout=SLOW_MS)
    await expect(page.get_by_text("Recording saved.")).to_have_count(0, timeout=SLOW_MS)
    await _idle(page)
    await _no_foreign_state(user)


async def _digitize(user: User, files: Path) -> None:
    page = user_page[user.name]
    await _goto(user, "Digitize")
    await _choose_patient(user)
    await _upload(user, str(files / f"{user.name}.png"), "Read document")
    await _timed(
        user,
        "read document",
        lambda: page.get_by_role("button", name="Read document").click(),
        lambda: expect(page.get_by_text("What was read")).to_be_visible(timeout=SLOW_MS),
    )
    await expect(page.get_by_test_id("stDataFrame").first).to_contain_text(user.drug.split()[0].lower())
    await _no_foreign_state(user)
    # The generated page names its own patient (chosen by its seed): when that is not the patient this user
    # picked, the page asks the nurse to confirm before it lets her save (the same for every run of this user).
    # Wait for one of the two outcomes of that check (sampling the page once can fall between two runs of it).
    await _idle(page)
    confirm = page.get_by_text("I have checked: this document belongs to")
    save = page.get_by_role("button", name="Save to patient history")
    await expect(confirm.or_(page.locator("button:enabled", has_text="Save to patient history")).first).to_be_visible(
        timeout=SLOW_MS
    )
    if await confirm.count():
        await confirm.first.click()
        await expect(save).to_be_enabled(timeout=SLOW_MS)
    await _timed(
        user,
        "save document",
        lambda: page.get_by_role("button", name="Save to patient history").click(),
        lambda: expect(page.get_by_text("Saved 1 medication")).to_be_visible(),
    )


async def _browse(user: User, uploads_done: asyncio.Event) -> None:
    page = user_page[user.name]
    await _goto(user, "Timeline")
    await _choose_patient(user)
    turn = 0
    while turn < MIN_BROWSE_TURNS or not uploads_done.is_set():
        tab = ("Timeline", "Active medications")[turn % 2]
        await _timed(
            user,
            f"tab {tab}",
            lambda tab=tab: page.get_by_role("tab", name=tab, exact=True).click(),  # type: ignore[misc]
            lambda tab=tab: expect(page.get_by_role("tab", name=tab, exact=True)).to_have_attribute(
                "aria-selected", "true"
            ),  # type: ignore[misc]
        )
        await _no_foreign_state(user)
        if turn % 3 == 2:
            await _goto(user, "Patients")
            await _goto(user, "Timeline")
            await _shows_patient(page, user.patient)  # remembered per session
        turn += 1
    user.browse_turns = turn


async def _run_user(
    browser: Browser, user: User, url: str, files: Path, uploads_left: list[int], done: asyncio.Event
) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(SLOW_MS)
    user_page[user.name] = page
    try:
        await _login(user, url)
        if user.task == "scribe":
            await _scribe(user, files)
        elif user.task == "digitize":
            await _digitize(user, files)
        if user.task != "browse":
            uploads_left[0] -= 1
            if uploads_left[0] == 0:
                done.set()
        await _browse(user, done)
        user.finished = True
    except Exception as e:
        done.set()  # the others stop browsing: the run fails with this user's error, not a hang
        shot = ROOT / "test-artifacts" / f"concurrency-failure-{user.name}.png"
        shot.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(shot), full_page=True)
        body = await page.locator("[data-testid='stMain']").inner_text()
        raise AssertionError(f"{user.name} ({user.task}) failed: {e}\npage at {page.url}:\n{body[:1500]}") from e
    finally:
        await context.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# Minutes of wall time on its own loop in its own thread: it starts first, beside the other worker's tests.
@pytest.mark.starts_first
def test_ten_concurrent_users(tmp_path: Path, artifacts: Path) -> None:
    data = tmp_path / "data"
    app = build_app(Settings(data_dir=data, store="sqlite", blobs="local", queue="sqlite"))
    seed_demo(app.stores)  # first: seeding refuses a database that already holds other accounts
    for user in USERS:
        add_user(app.stores, user.name, PASSWORD, user.role)
    files = tmp_path / "files"
    files.mkdir()
    for user in USERS:
        if user.task == "scribe":
            synth_wav(
                f"I have had a cough for two days. Please take {user.drug} as advised.", files / f"{user.name}.wav"
            )
        elif user.task == "digitize":
            render_prescription([f"Tab. {user.drug} BD x 30 days"], seed=len(user.name)).save(
                files / f"{user.name}.png"
            )
    proc, url = start_server(data, {"COPILOT_WHISPER_MODEL": str(MODEL), "COPILOT_DEMO": "1"})

    expect.set_options(timeout=SLOW_MS)  # under this load a rerun can take longer than the 5 s default

    async def main() -> float:
        done = asyncio.Event()
        uploads_left = [sum(u.task != "browse" for u in USERS)]
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            started = time.monotonic()
            try:
                await asyncio.gather(*(_run_user(browser, u, url, files, uploads_left, done) for u in USERS))
            finally:
                await browser.close()
            return time.monotonic() - started

    try:
        # Its own thread: a session-wide sync Playwright driver may already own an event loop in this one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            wall = pool.submit(asyncio.run, main()).result()
    finally:
        expect.set_options(timeout=None)  # back to Playwright's default for the tests after this one
        proc.terminate()
        proc.wait(timeout=30)

    times = [t for u in USERS for _, t in u.times]
    by_kind: dict[str, list[float]] = {}
    for u in USERS:
        for what, t in u.times:
            by_kind.setdefault(what.split()[0] if what.startswith(("open", "tab")) else what, []).append(t)
    report = {
        "users": len(USERS),
        "wall_seconds": round(wall, 1),
        "actions": len(times),
        "page_response_median_s": round(statistics.median(times), 2),
        "page_response_p95_s": round(_p95(times), 2),
        "page_response_max_s": round(max(times), 2),
        "by_action": {
            k: {"n": len(v), "median_s": round(statistics.median(v), 2), "p95_s": round(_p95(v), 2)}
            for k, v in sorted(by_kind.items())
        },
        "per_user_actions": {u.name: u.actions for u in USERS},
        "per_user_browse_turns": {u.name: u.browse_turns for u in USERS},
    }
    (artifacts / "concurrency.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    # Everyone went through the whole script (sign in, their task, every browse turn), each step checked.
    assert [u.name for u in USERS if not u.finished] == []
    assert all(u.browse_turns >= MIN_BROWSE_TURNS for u in USERS)
    # Every job of the run finished with a note, and every digitized document was saved once.
    for user in USERS:
        if user.task == "scribe":
            jobs = [j for pid in _pids(app, user.patient) for j in app.stores.jobs.list_for_patient(pid)]
            assert len(jobs) == 1 and jobs[0].status is JobStatus.READY and jobs[0].created_by == user.name
        if user.task == "digitize":
            entries = [
                e
                for pid in _pids(app, user.patient)
                for e in app.stores.history.list_for_patient(pid).items
                if e.author == user.name
            ]
            assert len(entries) == 1 and entries[0].medications[0].name.lower().startswith(user.drug.split()[0].lower())


def _pids(app: object, name: str) -> list[str]:
    return [p.patient_id for p in app.stores.patients.search_name(name, 5) if p.name == name]  # type: ignore[attr-defined]
