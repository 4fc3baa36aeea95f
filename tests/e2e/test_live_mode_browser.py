"""Live mode in a real browser: chromium's fake microphone streams over WebRTC (loopback, no STUN) to the app.

While recording, the level meter moves and live captions show the drug name; on stop the recording becomes one
job that ends in a draft with the medication. A silent microphone gives "no speech detected" and no job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, Playwright, Request, expect

from tests.conftest import ROOT
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER, goto, login, rerun_app, start_server, wait_idle
from tests.helpers.speech import synth_wav, wav_seconds, write_wav

CONSULTATION = (
    "Good morning doctor. I have had a fever and a dry cough for three days. "
    "I take metformin 500 milligrams twice daily."
)
MODEL = ROOT / "data" / "models" / "faster-whisper-base"
LEVEL = re.compile(r"Recording \d+:\d\d · level -\d+ dBFS")
# Bounds for what the machine does (load whisper, caption, transcribe), generous for a busy 2-core machine:
# each wait returns as soon as its event happens.
SLOW_MS = 240_000
# The meter's clock counts audio received, not wall time: "M:SS" of the recording in progress.
RECORDED_AT_LEAST = """(min) => {
  const m = document.body.innerText.match(/Recording (\\d+):(\\d\\d)/);
  return m !== null && Number(m[1]) * 60 + Number(m[2]) >= min;
}"""
RECORDED_SECONDS = """() => {
  const m = document.body.innerText.match(/Recording (\\d+):(\\d\\d)/);
  return m === null ? 0 : Number(m[1]) * 60 + Number(m[2]);
}"""
# Records, in every frame, the configuration each RTCPeerConnection gets and the ICE candidates it gathers.
RTC_PROBE = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.__rtcSeen = [];
  window.RTCPeerConnection = function (config, ...rest) {
    const pc = new Native(config, ...rest);
    const seen = { iceServers: (config && config.iceServers) || null, candidates: [] };
    window.__rtcSeen.push(seen);
    pc.addEventListener("icecandidate", (e) => { if (e.candidate) seen.candidates.push(e.candidate.candidate); });
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("live-e2e")
    proc, url = start_server(tmp / "data", {"COPILOT_WHISPER_MODEL": str(MODEL)})
    yield url, tmp
    proc.terminate()
    proc.wait(timeout=20)


def mic_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, permissions=["microphone"])
    context.add_init_script(RTC_PROBE)
    context.add_init_script(RUN_COUNTER)
    return context


@pytest.fixture
def launch(pw: Playwright) -> Iterator[Callable[[Path], Browser]]:
    """Start chromium with a given WAV file as its microphone (chromium loops the file)."""
    browsers: list[Browser] = []

    def _launch(wav: Path) -> Browser:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}"],
            headless=True,
        )
        browsers.append(b)
        return b

    yield _launch
    for b in browsers:
        b.close()


def open_live_tab(page: Page, url: str) -> None:
    login(page, url, "doctor", "doctor-demo")
    goto(page, "Scribe")
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("ram kumar")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("tab", name="Live").click()
    page.get_by_text("Start live mode").click()


def webrtc(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title*='webrtc']")


def off_host_requests(page: Page, url: str) -> list[str]:
    """Requests the WebRTC component's frame makes to any host but the app's (must stay empty: offline app)."""
    host = urlparse(url).hostname
    seen: list[str] = []

    def check(request: Request) -> None:
        if "webrtc" in request.frame.url and urlparse(request.url).hostname not in (host, None):
            seen.append(request.url)

    page.on("request", check)
    return seen


def wait_recorded(page: Page, seconds: float) -> None:
    """Wait until the recording in progress holds at least ``seconds`` of audio (as its meter shows)."""
    page.wait_for_function(RECORDED_AT_LEAST, arg=seconds, polling=250, timeout=SLOW_MS)


def peer_connections(page: Page) -> list[dict[str, Any]]:
    frame = next(f for f in page.frames if "webrtc" in f.url)
    return list(frame.evaluate("window.__rtcSeen || []"))


def test_live_recording_meter_captions_and_draft(
    live_server: tuple[str, Path], launch: Callable[[Path], Browser], artifacts: Path
) -> None:
    url, tmp = live_server
    wav = synth_wav(CONSULTATION, tmp / "consultation.wav")
    context = mic_context(launch(wav))
    page = context.new_page()
    page.set_default_timeout(60_000)
    external = off_host_requests(page, url)
    open_live_tab(page, url)

    webrtc(page).get_by_role("button", name="Start live recording").click()
    expect(page.get_by_text(LEVEL)).to_be_visible(timeout=SLOW_MS)  # frames arrive and the meter reads them
    # Rolling captions: whisper's fast path on the last 20 s, refreshed every few seconds while recording.
    captions = page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"Live captions.*metformin"))
    expect(captions).to_be_visible(timeout=SLOW_MS)
    page.screenshot(path=str(artifacts / "page-scribe-live-recording.png"), full_page=True)
    # Chromium loops the file from wherever it is: two lengths of audio hold one whole pass of the consultation.
    wait_recorded(page, 2 * wav_seconds(wav) + 1)
    # The recording lasts as long as the first captions took, so the job's work grows with the machine's load.
    recorded_s = float(page.evaluate(RECORDED_SECONDS))
    webrtc(page).get_by_role("button", name="Stop and create draft").click()

    expect(page.get_by_text("Recording saved.")).to_be_visible()
    expect(page.get_by_text("live.wav")).to_have_count(1)
    expect(page.get_by_text("ready for review").first).to_be_visible(timeout=SLOW_MS + 10_000 * recorded_s)
    # The poll that shows the status then reruns the page to open the draft; that run has drawn the page once
    # the submit's message is gone.
    expect(page.get_by_text("Recording saved.")).to_have_count(0, timeout=SLOW_MS)
    wait_idle(page)
    # Later whole-page reruns (each runs the recorder again) never submit the same recording twice.
    for _ in range(2):
        rerun_app(page)
        expect(page.get_by_text("live.wav")).to_have_count(1)
    page.get_by_label("Note", exact=True).click()  # as in the upload test: the newest note is selected first
    page.keyboard.press("Escape")
    expect(page.get_by_text("draft — not yet signed")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("metformin")
    page.screenshot(path=str(artifacts / "page-scribe-live-draft.png"), full_page=True)
    assert external == [], f"the WebRTC component contacted other hosts: {external[:5]}"
    # No STUN/TURN: the browser was given no ICE servers and gathered host candidates only (loopback suffices).
    connections = peer_connections(page)
    assert connections and all(c["iceServers"] == [] for c in connections)
    candidates = [cand for c in connections for cand in c["candidates"]]
    assert candidates and all(" typ host" in cand for cand in candidates), candidates
    context.close()


def test_silent_live_recording_says_no_speech_and_makes_no_job(
    live_server: tuple[str, Path], launch: Callable[[Path], Browser]
) -> None:
    url, tmp = live_server
    hiss = np.random.default_rng(1).normal(0, 0.0005, 16_000 * 4).astype(np.float32)
    context = mic_context(launch(write_wav(hiss, tmp / "silence.wav")))
    page = context.new_page()
    page.set_default_timeout(60_000)
    open_live_tab(page, url)
    # The run that shows the recorder also lists this patient's recordings below it: count them once it is over.
    expect(webrtc(page).get_by_role("button", name="Start live recording")).to_be_visible()
    wait_idle(page)
    jobs_before = page.get_by_text("live.wav").count()

    webrtc(page).get_by_role("button", name="Start live recording").click()
    wait_recorded(page, 3)
    webrtc(page).get_by_role("button", name="Stop and create draft").click()

    expect(page.get_by_text("No speech detected")).to_be_visible(timeout=SLOW_MS)
    wait_idle(page)  # the run that said so has finished: a job it made would be listed by now
    expect(page.get_by_text("Recording saved.")).to_have_count(0)
    assert page.get_by_text("live.wav").count() == jobs_before
    context.close()
