"""The timeline with no patient chosen offers a hint and the likely patients as one-click choices (AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import Note, Patient, Role
from backend.services.access import Principal
from backend.services.patients import get_patient
from backend.services.recent_patients import DRAFT_WAITING, OPENED_BY_YOU, recent_patients
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("timeline-choices", users={"doctor": Role.DOCTOR, "nurse": Role.NURSE})
DOCTOR = Principal("doctor", Role.DOCTOR)
OPENED, DRAFTED, OTHER = "PAT_0000e001", "PAT_0000e002", "PAT_0000e003"


def _buttons(at: AppTest) -> dict[str, str]:
    return {b.key: b.label for b in at.button if b.key and b.key.startswith("timeline_recent_")}


@pytest.fixture(scope="module", autouse=True)
def _patients(app: App) -> None:
    for pid, name in ((OPENED, "Opened Before"), (DRAFTED, "Draft Waiting"), (OTHER, "Never Seen")):
        app.stores.patients.add(Patient(patient_id=pid, name=name))
    app.stores.notes.add(Note(patient_id=DRAFTED, author="nurse"))
    get_patient(app.stores, DOCTOR, OPENED)  # the doctor opened this one (an audited read)


def test_recent_patients_are_offered_and_one_click_opens_the_timeline() -> None:
    at = open_page("timeline", DOCTOR)
    assert any("Type a name, phone number or patient ID" in i.value for i in at.info)
    offered = _buttons(at)
    # Opened by this doctor first, then the draft; a patient with neither is not offered.
    assert list(offered) == [f"timeline_recent_{OPENED}", f"timeline_recent_{DRAFTED}"]
    assert offered[f"timeline_recent_{OPENED}"].startswith("Opened Before")
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"{OPENED} · {OPENED_BY_YOU} · ") for c in captions)
    assert any(c.startswith(f"{DRAFTED} · {DRAFT_WAITING} · ") for c in captions)

    at.button(key=f"timeline_recent_{DRAFTED}").click().run()
    assert not at.exception, at.exception
    assert at.query_params["patient"] == DRAFTED
    assert [t.label for t in at.tabs][:2] == ["Active medications", "Timeline"]  # the patient's timeline itself
    assert not _buttons(at)


def test_each_user_is_offered_the_patients_they_opened_not_another_users(app: App) -> None:
    nurse = Principal("nurse", Role.NURSE)
    assert [(r.patient.patient_id, r.why) for r in recent_patients(app.stores, nurse, since_ms=0)] == [
        (DRAFTED, DRAFT_WAITING)
    ]
    assert (OPENED, OPENED_BY_YOU) in [(r.patient.patient_id, r.why) for r in recent_patients(app.stores, DOCTOR, 0)]


def keys(at: AppTest) -> set[str | None]:
    return {b.key for b in at.button}


def test_the_pager_shows_only_when_there_is_more_than_one_page(app: App) -> None:
    one_page = open_page("timeline", DOCTOR, DRAFTED)  # a single note
    assert not {"timeline_back", "timeline_forward"} & keys(one_page)
    many = "PAT_0000e004"
    app.stores.patients.add(Patient(patient_id=many, name="Many Notes"))
    for ts in range(1, 22):  # 21 notes: one more than a page holds
        app.stores.notes.add(Note(patient_id=many, timestamp=ts * 1000, author="nurse"))
    at = open_page("timeline", DOCTOR, many)
    assert {"timeline_back", "timeline_forward"} <= keys(at)
    assert at.button(key="timeline_back").disabled and not at.button(key="timeline_forward").disabled
