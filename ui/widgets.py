"""Widgets shared by pages: the patient picker and error display."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError, NotFound
from backend.domain.models import Patient, now_ms
from backend.services.patients import get_patient, search_patients
from ui import patient_text
from ui.clock import clinic_day
from ui.runtime import get_app, require_principal
from ui.safe import md_escape

SELECTED = "selected_patient_id"
PATIENT_PARAM = "patient"  # the chosen patient in the page's address, so a reload or a link opens the same one


def patient_label(p: Patient) -> str:
    """``Ram Kumar · 66 y, male · +91 98534 64097 · PAT_de000001``, the age on the clinic's today."""
    return patient_text.patient_label(p, clinic_day(now_ms()))


def pick_patient(key: str) -> Patient | None:
    """Search box + choice; remembers the chosen patient across pages and in the address (``?patient=``)."""
    app, principal = get_app(), require_principal()
    query = st.text_input("Find patient (name, phone or ID)", key=f"{key}_query", max_chars=200)
    options: list[Patient] = []
    if query.strip():
        try:
            options = search_patients(app.stores, principal, query, app.settings.default_region)
        except CopilotError as e:
            st.error(e.message)
    chosen_id = st.query_params.get(PATIENT_PARAM) or st.session_state.get(SELECTED)
    if not options and chosen_id:
        try:
            options = [get_patient(app.stores, principal, chosen_id)]
        except NotFound:
            st.session_state[SELECTED] = None
            st.query_params.pop(PATIENT_PARAM, None)
    if not options:
        if query.strip():
            st.caption("No patient matches. Register new patients on the Patients page.")
        return None
    ids = [p.patient_id for p in options]
    index = ids.index(chosen_id) if chosen_id in ids else 0
    picked = st.selectbox("Patient", options, index=index, format_func=patient_label, key=f"{key}_patient")
    # The box remembers the object chosen on an earlier run; hand back the copy read on this run (its version).
    patient = next((p for p in options if picked is not None and p.patient_id == picked.patient_id), picked)
    if patient is not None:
        st.session_state[SELECTED] = patient.patient_id
        if st.query_params.get(PATIENT_PARAM) != patient.patient_id:
            st.query_params[PATIENT_PARAM] = patient.patient_id
    return patient


def show_error(error: CopilotError) -> None:
    st.error(md_escape(error.message))


def not_built(what: str) -> None:
    """Honest placeholder for a page whose capability has not landed yet."""
    st.info(f"{what} is not built yet in this version of Clinical Co-Pilot.")
