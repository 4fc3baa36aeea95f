"""Digitize page, right patient and right date (AppTest): a prescription for Kavita Joshi uploaded while
Sita Devi is selected is shown beside her details and saved only after the nurse confirms; the document's
printed date (not its review date) is proposed and dates the timeline entry once confirmed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.demo import demo_patient_id
from backend.services.scribe import IN_PROGRESS
from tests.conftest import ROOT
from tests.helpers.apptest import app_data_dir
from tests.helpers.prescriptions import text_pdf

SITA = demo_patient_id(2)  # "Sita Devi" in the demo data
READ_BOUND_S = 120.0  # a bound, not a budget: a text-layer PDF is read in well under a second
KAVITA_RX = text_pdf(
    [
        [
            "Lotus Medical Centre, MG Road, Bengaluru   Ph: 080 2536 1215",
            "Name: Kavita Joshi   Age: 52 F",
            "Date: 12/03/2024",
            "Rx",
            "Tab. Pan 40 OD before breakfast",
            "Tab. Metformin 500 mg BD x 30 days",
            "Review on: 26/03/2024",
        ]
    ]
)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordStore]:
    path: Path = tmp_path_factory.mktemp("digitize-identity")
    with app_data_dir(path, demo_data=True, env={"COPILOT_DEMO": "1"}) as app:
        yield app.stores


def _read_for_sita(stores: RecordStore) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = Principal("nurse", Role.NURSE)
    at.session_state["selected_patient_id"] = SITA
    at.run()
    at.switch_page("pages/digitize.py").run()
    at.file_uploader(key="digitize_upload").upload("kavita.pdf", KAVITA_RX, "application/pdf").run()
    at.button(key="digitize_read").click().run()
    assert not at.exception, at.exception
    # The app's worker reads it (a job, as on the real page): wait for the job, bounded, then show the reading.
    deadline, tick = time.monotonic() + READ_BOUND_S, threading.Event()
    while any(j.kind == "document" and j.status in IN_PROGRESS for j in stores.jobs.list_for_patient(SITA)):
        assert time.monotonic() < deadline, "the document job did not finish"
        tick.wait(0.1)
    at.run()
    assert not at.exception, at.exception
    return at


def _actions(stores: RecordStore, action: str) -> list[str]:
    return [e.detail for e in stores.audit.query(patient_id=SITA, limit=200).items if e.action == action]


def test_another_patients_document_must_be_confirmed_then_is_dated_by_the_document(stores: RecordStore) -> None:
    sita = stores.patients.get(SITA)
    assert sita.name == "Sita Devi" and sita.dob
    at = _read_for_sita(stores)
    errors = [e.value for e in at.error]
    assert any("This document is for Kavita Joshi, 52 F — you selected Sita Devi" in e for e in errors), errors
    assert at.button(key="digitize_save").disabled

    editor = at.dataframe[-1].value  # the medication table (a data editor)
    assert list(editor.columns)[:3] == ["name", "verbatim", "verified"]  # on screen at a laptop's width
    assert editor.loc[editor["name"] == "pantoprazole", "instructions"].tolist() == ["before breakfast"]
    assert not editor.isna().any().any() and "None" not in editor.astype(str).to_numpy()  # blank, not "None"

    assert at.date_input(key="digitize_date").value == date(2024, 3, 12)  # printed date, not the review date
    assert any("2024-03-26" in c.value for c in at.caption)  # the review date is shown as another date

    at.checkbox(key="digitize_confirm_patient").check().run()
    at.checkbox(key="digitize_use_date").check().run()
    assert not at.button(key="digitize_save").disabled
    at.button(key="digitize_save").click().run()
    assert not at.exception, at.exception
    assert any("dated 2024-03-12" in s.value for s in at.success), [s.value for s in at.success]

    (entry,) = [e for e in stores.history.list_for_patient(SITA).items if e.document_key]
    assert entry.document_date == "2024-03-12"
    assert [m.instructions for m in entry.medications] == ["before breakfast", None]
    (confirmed,) = _actions(stores, "digitize.identity_confirmed")
    assert confirmed.endswith("fields=name,age")


def test_cancel_saves_nothing_and_is_audited(stores: RecordStore) -> None:
    before = len(stores.history.list_for_patient(SITA).items)
    at = _read_for_sita(stores)
    at.button(key="digitize_cancel").click().run()
    assert not at.exception, at.exception
    assert any("Not saved" in i.value for i in at.info), [i.value for i in at.info]
    assert len(stores.history.list_for_patient(SITA).items) == before
    assert _actions(stores, "digitize.identity_cancelled") == ["fields=name,age"]
