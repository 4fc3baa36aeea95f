"""Pages show times on the clinic's clock (``COPILOT_TIMEZONE``), while the record keeps UTC epoch milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from backend.bootstrap import App
from backend.domain.models import Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from tests.helpers.apptest import app_data_dir, open_page

DOCTOR = Principal("doctor", Role.DOCTOR)
PID = "PAT_00007a01"
LATE_UTC = int(datetime(2026, 3, 7, 20, 0, tzinfo=UTC).timestamp() * 1000)  # 01:30 on the 8th in India


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    mp = pytest.MonkeyPatch()
    mp.setenv("COPILOT_TIMEZONE", "Asia/Kolkata")
    try:
        with app_data_dir(tmp_path_factory.mktemp("clinic-tz"), users={"doctor": Role.DOCTOR}) as built:
            built.stores.patients.add(Patient(patient_id=PID, name="Zone Test"))
            built.stores.notes.add(
                Note(
                    patient_id=PID,
                    timestamp=LATE_UTC,
                    status=NoteStatus.SIGNED,
                    signer="doctor",
                    signed_at=LATE_UTC,
                    sections={"assessment": "Fever."},
                )
            )
            yield built
    finally:
        mp.undo()


def test_the_timeline_and_dashboard_show_the_clinics_clock(app: App) -> None:
    assert app.settings.timezone == "Asia/Kolkata"
    at = open_page("timeline", DOCTOR, PID)
    labels = [e.proto.label for e in at.expander]
    assert any("2026-03-08 01:30" in label for label in labels), labels  # not 2026-03-07 20:00 (UTC)
    assert app.stores.notes.get(PID, LATE_UTC).timestamp == LATE_UTC  # stored as it was, in UTC
    dash = open_page("dashboard", DOCTOR)
    (live,) = [c.value for c in dash.caption if c.value.startswith("Live: checked at")]
    assert live.endswith(" IST")
    assert any(c.value.endswith("1 item · times in IST") for c in at.caption)
