"""A doctor records through chromium's fake microphone (an espeak-ng consultation), gets a draft, edits and signs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.conftest import ROOT
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, goto, login, start_server, wait_idle
from tests.helpers.speech import synth_wav, wav_seconds

CONSULTATION = (
    "Good morning doctor. I have had a fever and a dry cough for three days. I do not have chest pain. "
    "My temperature this morning was 101 degrees Fahrenheit. I take metformin 500 milligrams twice daily."
)
MODEL = ROOT / "data" / "models" / "faster-whisper-base"
# The recorder's time code ("MM:SS") counts the audio it has captured.
RECORDED_AT_LEAST = """(min) => {
  const el = document.querySelector("[data-testid='stAudioInputWaveformTimeCode']");
  if (!el) return false;
  const seconds = el.innerText.trim().split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
  return seconds >= min;
}"""


@pytest.fixture(scope="module")
def mic_browser(pw: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Browser, str, float]]:
    tmp = tmp_path_factory.mktemp("scribe-e2e")
    wav = synth_wav(CONSULTATION, tmp / "consultation.wav")
    proc, url = start_server(tmp / "data", {"COPILOT_WHISPER_MODEL": str(MODEL)})
    browser = pw.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}"], headless=True
    )
    yield browser, url, wav_seconds(wav)
    browser.close()
    proc.terminate()
    proc.wait(timeout=20)


def test_record_draft_edit_sign(mic_browser: tuple[Browser, str, float], artifacts: Path) -> None:
    browser, url, consultation_s = mic_browser
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, permissions=["microphone"])
    page: Page = context.new_page()
    page.set_default_timeout(60_000)
    login(page, url, "doctor", "doctor-demo")
    goto(page, "Scribe")
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("ram kumar")
    page.keyboard.press("Enter")
    wait_idle(page)

    page.get_by_test_id("stAudioInput").get_by_role("button", name="Record").click()
    # The fake microphone loops the consultation from wherever it is: two lengths hold one whole pass.
    page.wait_for_function(RECORDED_AT_LEAST, arg=2 * consultation_s + 1, polling=250, timeout=240_000)
    page.get_by_test_id("stAudioInputActionButton").click()
    page.get_by_role("button", name="Create draft from recording").click()
    expect(page.get_by_text("Recording saved.")).to_be_visible()
    expect(page.get_by_text("ready for review").first).to_be_visible(timeout=240_000)
    wait_idle(page)

    page.get_by_label("Note", exact=True).click()  # the newest note is selected first
    page.keyboard.press("Escape")
    expect(page.get_by_text("draft — not yet signed")).to_be_visible()
    meds = page.get_by_test_id("stDataFrame").first
    expect(meds).to_contain_text("metformin")
    expect(page.get_by_text("Vital signs")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").last).to_contain_text("Temperature")  # vital signs are named
    page.screenshot(path=str(artifacts / "page-scribe-review.png"), full_page=True)

    plan = page.get_by_role("textbox", name="Plan", exact=True)
    plan.fill("Review in one week. Continue metformin.")
    plan.press("Control+Enter")  # commit the edit (Streamlit sends text areas on blur or Ctrl+Enter)
    wait_idle(page)
    page.get_by_role("button", name="Sign note").click()
    expect(page.get_by_text("signed", exact=False).first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("textbox", name="Plan", exact=True)).to_have_value(
        "Review in one week. Continue metformin."
    )
    expect(page.get_by_role("textbox", name="Plan", exact=True)).to_be_disabled()
    page.screenshot(path=str(artifacts / "page-scribe-signed.png"), full_page=True)
    context.close()
