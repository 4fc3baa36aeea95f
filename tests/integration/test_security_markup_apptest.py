"""Patient names and record text reach headings, expander and checkbox labels as text, never as markdown.

Streamlit renders markdown in subheaders and in widget labels: a name like ``[Ram](https://evil.example)`` or
``![x](https://evil.example/p.png)`` would otherwise become a link or an image fetched from another server
each time the page is shown (telling it who was looked up). Real pages, a real SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from backend.domain.models import Note, NoteStatus, Role
from backend.domain.note_content import CitedText
from backend.services.access import Principal
from tests.conftest import ROOT

HOSTILE = "Ram **Kumar** [site](https://evil.example) ![p](https://evil.example/p.png) <b>x</b>"
NURSE = Principal("nurse", Role.NURSE)


@pytest.fixture(scope="module")
def patient_id(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("markup-data")
    mp = pytest.MonkeyPatch()
    mp.setenv("COPILOT_DATA_DIR", str(path))
    mp.setenv("COPILOT_DEMO", "0")
    mp.chdir(ROOT)
    from backend.bootstrap import build_app
    from backend.config import Settings
    from backend.services.auth import add_user
    from backend.services.patients import PatientInput, register_patient

    stores = build_app(Settings()).stores
    add_user(stores, "nurse", "nurse-password", Role.NURSE)  # every run re-reads the signed-in account
    pid = register_patient(stores, NURSE, PatientInput(name=HOSTILE)).patient.patient_id
    stores.notes.add(
        Note(
            patient_id=pid,
            timestamp=1_700_000_000_000,
            status=NoteStatus.DRAFT,
            chief_complaint=CitedText(text=HOSTILE),  # the note's headline: said in the room, transcribed
            sections={"assessment": HOSTILE},
        )
    )
    import streamlit as st

    st.cache_resource.clear()
    yield pid
    st.cache_resource.clear()
    mp.undo()


def _page(page: str, patient_id: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["auth_principal"] = NURSE
    at.run()
    at.session_state["selected_patient_id"] = patient_id
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


def _live(text: str) -> bool:
    """True if ``text`` holds markdown or HTML that would render (an unescaped bracket, star or angle)."""
    return any(c in "[]*<>!" and (i == 0 or text[i - 1] != "\\") for i, c in enumerate(text))


def test_the_patient_heading_shows_the_name_as_text(patient_id: str) -> None:
    at = _page("patients", patient_id)
    headings = [h.value for h in at.subheader]
    assert any("evil" in h for h in headings)
    assert not any(_live(h) for h in headings if "evil" in h)


def test_timeline_expander_labels_are_text(patient_id: str) -> None:
    at = _page("timeline", patient_id)
    labels = [e.label for e in at.expander]
    assert any("evil" in label for label in labels)
    assert not any(_live(label) for label in labels if "evil" in label)
