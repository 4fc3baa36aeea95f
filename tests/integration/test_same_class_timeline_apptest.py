"""The timeline's medication list warns about two active drugs of one class, naming both sources (AppTest, SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.services import auth
from backend.services.access import Principal
from tests.conftest import ROOT

PATIENT = "PAT_0000dddd"
T0 = 1_709_251_200_000  # 2024-03-01


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    mp = pytest.MonkeyPatch()
    mp.setenv("COPILOT_DATA_DIR", str(tmp_path_factory.mktemp("same-class-apptest")))
    mp.setenv("COPILOT_DEMO", "0")
    mp.setenv("COPILOT_LLM", "offline")
    mp.chdir(ROOT)
    import streamlit as st

    st.cache_resource.clear()
    app = build_app(Settings())
    auth.add_user(app.stores, "doctor", "doctor-password", Role.DOCTOR)
    yield app
    st.cache_resource.clear()
    mp.undo()


def test_two_arbs_show_one_warning_with_both_sources(app: App) -> None:
    app.stores.patients.add(Patient(patient_id=PATIENT, name="Same Class"))
    app.stores.notes.add(
        Note(
            patient_id=PATIENT,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            medications=[Medication(name="telmisartan", strength="40 mg", verified=True)],
        )
    )
    app.stores.history.add(
        HistoryEntry(
            patient_id=PATIENT,
            timestamp=T0 + 86_400_000,
            medications=[Medication(name="losartan", strength="50 mg", verified=True)],
        )
    )
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = Principal("doctor", Role.DOCTOR)
    at.session_state["selected_patient_id"] = PATIENT
    at.run()
    at.switch_page("pages/timeline.py").run()
    assert not at.exception, at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning if "ARB" in w.value]  # shown markdown-escaped
    assert len(warnings) == 1
    assert "losartan (document 2024" in warnings[0] and "telmisartan (note 2024-03-01)" in warnings[0]
