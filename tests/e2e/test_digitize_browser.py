"""A nurse uploads a generated prescription photo, read by the app's worker; the table shows metformin 500 mg twice
daily; saved, it is on the timeline."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import goto, login, wait_idle
from tests.helpers.prescriptions import render_prescription


def test_upload_prescription_then_timeline(server: str, page: Page, artifacts: Path, tmp_path: Path) -> None:
    image = render_prescription(
        ["Tab. Metformin 500 mg BD x 30 days", "Tab. Telma 40 mg OD", "Syp. Crocin 250 mg/5 ml 5 ml TDS"], seed=3
    )
    path = tmp_path / "prescription.png"
    image.save(path)
    login(page, server, "nurse", "nurse-demo")
    goto(page, "Digitize")
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("sita devi")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Prescription or medication list")).to_be_visible()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_idle(page)
    page.get_by_role("button", name="Read document").click()
    # The app's worker reads it (a job): the page polls and shows the reading when it is stored. A bound, not a
    # budget: OCR on a busy machine.
    expect(page.get_by_text("What was read")).to_be_visible(timeout=240_000)
    expect(page.get_by_text("Reading the document")).to_have_count(0)  # the progress note is gone with the job
    editor = page.get_by_test_id("stDataFrame").first
    for text in ("metformin", "500 mg", "twice daily", "telmisartan", "paracetamol"):
        expect(editor).to_contain_text(text)
    page.screenshot(path=str(artifacts / "page-digitize-read.png"), full_page=True)
    # The generated page is made out to Joseph DSouza: saving it to Sita Devi needs the nurse's confirmation.
    expect(page.get_by_text("This document is for Joseph DSouza")).to_be_visible()
    expect(page.get_by_role("button", name="Save to patient history")).to_be_disabled()
    page.get_by_text("I have checked: this document belongs to Sita Devi").click()
    page.get_by_role("button", name="Save to patient history").click()
    expect(page.get_by_text("Saved 3 medications")).to_be_visible()

    goto(page, "Timeline")
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("metformin")  # the active medication list
    page.get_by_role("tab", name="Timeline", exact=True).click()
    expect(page.get_by_text("Document (3 medications)").first).to_be_visible()
    page.screenshot(path=str(artifacts / "page-timeline-after-digitize.png"), full_page=True)
