"""A nurse imports a wide CSV for a new patient; the chart shows the anomaly with its explanation."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from backend.domain.anomaly.synthetic import synth_patient_days
from tests.e2e.conftest import goto, login, wait_idle


def write_wide_csv(path: Path) -> Path:
    frame = synth_patient_days(60, seed=11, episodes=[(50, 54)], metrics=("resting_hr", "hrv", "sleep_hours", "steps"))
    wide = frame.pivot(index="day", columns="metric", values="value").reset_index()
    wide["date"] = wide["day"].dt.date.astype(str)
    wide[["date", "resting_hr", "hrv", "sleep_hours", "steps"]].round(1).to_csv(path, index=False)
    return path


def test_import_csv_then_chart_marks_anomaly(server: str, page: Page, artifacts: Path, tmp_path: Path) -> None:
    csv = write_wide_csv(tmp_path / "wearable.csv")
    login(page, server, "nurse", "nurse-demo")
    page.get_by_role("tab", name="Register").click()
    page.get_by_role("textbox", name="Full name *", exact=True).fill("Metric Testpatient")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Registered Metric Testpatient")).to_be_visible()

    goto(page, "Health metrics")
    page.get_by_role("tab", name="Import").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_be_visible()

    page.get_by_role("tab", name="Charts").click()
    wait_idle(page)
    expect(page.get_by_text("Resting HR", exact=False).first).to_be_visible()
    expect(page.get_by_text("above the 28-day median").first).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").nth(1)
    expect(chart).to_be_visible()
    # The last scatter trace of a metric chart is the "anomaly" trace: its markers are the flagged days.
    anomaly_points = chart.locator("g.scatterlayer g.trace.scatter").last.locator("path.point")
    expect(anomaly_points.first).to_be_attached()
    assert 1 <= anomaly_points.count() <= 10
    page.screenshot(path=str(artifacts / "page-health-metrics-import.png"), full_page=True)
