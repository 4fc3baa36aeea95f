"""A doctor sees a nurse's new draft appear live, opens the patient's timeline, asks a cited question, downloads FHIR."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.models import Medication, Note, Segment
from backend.domain.note_content import CitedText
from tests.e2e.conftest import goto, login, wait_idle

PATIENT = "PAT_de000006"  # Lakshmi Iyer: demo medication list with metformin, an illness episode in her wearable data


def test_doctor_dashboard_timeline_ask_export(server_info: tuple[str, Path], page: Page, artifacts: Path) -> None:
    url, data_dir = server_info
    login(page, url, "doctor", "doctor-demo")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Lakshmi Iyer").first).to_be_visible()  # in the anomaly list

    # A nurse's recording becomes a draft (written to the same store the server uses); no reload in the browser.
    stores = open_sqlite_store(data_dir / "copilot.sqlite3")
    stores.notes.add(
        Note(
            patient_id=PATIENT,
            author="nurse",
            transcript=[Segment(id=0, start=0.0, end=4.0, text="I have a sore throat since Monday.")],
            sections={
                "subjective": "The patient has a sore throat since Monday.",
                "objective": "",
                "assessment": "",
                "plan": "",
            },
            chief_complaint=CitedText(text="Sore throat since Monday", segment_ids=[0]),
            medications=[Medication(name="paracetamol", strength="500 mg", verified=True)],
        )
    )
    # The dashboard's list refreshes every 5 s; the bound is for a busy machine, the wait ends when it shows.
    expect(page.get_by_text("Sore throat since Monday")).to_be_visible(timeout=120_000)
    page.screenshot(path=str(artifacts / "page-dashboard-live.png"), full_page=True)

    goto(page, "Timeline")
    page.get_by_role("textbox", name="Find patient (name, phone or ID)", exact=True).fill("lakshmi")
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("metformin")  # reconciled active medications
    page.get_by_role("tab", name="Timeline", exact=True).click()
    expect(page.get_by_text("Note: Sore throat since Monday").first).to_be_visible()
    expect(page.get_by_text("Anomaly:").first).to_be_visible()
    expect(page.get_by_text("Medication list (2 medications)").first).to_be_visible()
    page.screenshot(path=str(artifacts / "page-timeline.png"), full_page=True)

    goto(page, "Ask")
    page.get_by_role("textbox", name="Question", exact=True).fill("Is she taking metformin?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.get_by_text("Sources")).to_be_visible()
    expect(page.get_by_text("metformin").first).to_be_visible()
    page.screenshot(path=str(artifacts / "page-ask.png"), full_page=True)
    page.get_by_role("button", name="Open in timeline").first.click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()

    page.get_by_role("tab", name="Export").click()
    page.get_by_role("button", name="Prepare FHIR R4 bundle").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download FHIR bundle (JSON)").click()
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "MedicationStatement", "Observation"} <= kinds
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["name"][0]["text"] == "Lakshmi Iyer" or "Lakshmi" in json.dumps(patient["name"])
