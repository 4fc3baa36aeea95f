"""Patients: search, browse, register, view and edit."""

from __future__ import annotations

from datetime import date

import streamlit as st

from backend.domain.document_identity import age_on
from backend.domain.errors import CopilotError
from backend.domain.models import now_ms
from backend.domain.patients import SEXES
from backend.services.patients import PatientInput, list_patients, register_patient, update_patient
from ui.clock import clinic_day
from ui.pager import pager
from ui.patient_choices import patient_choices
from ui.patient_text import phone_text
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.wearable_link import wearable_link_form
from ui.widgets import SELECTED, patient_label, pick_patient

ABHA_HELP = "The patient's 14-digit ABHA number, e.g. 91-1234-5678-9012."
ADDRESS_HELP = "The patient's ABHA address, e.g. name@abdm (name@sbx in the ABDM sandbox)."


def _age(dob: str | None) -> str:
    """ "**Age** 66 (born 1959-07-21)", or what is known when the date is missing or unreadable."""
    if not dob:
        return "**Age** not recorded"
    try:
        born = date.fromisoformat(dob)
    except ValueError:
        return f"**Born** {md_escape(dob)}"
    return f"**Age** {age_on(born, clinic_day(now_ms()))} (born {born.isoformat()})"


# What a nurse or doctor does next with a patient they found: the page opens with this patient chosen.
NEXT_STEPS = (
    ("Record a consultation", "pages/scribe.py", ":material/mic:"),
    ("Digitize a prescription", "pages/digitize.py", ":material/document_scanner:"),
    ("Open the timeline", "pages/timeline.py", ":material/timeline:"),
    ("Health metrics", "pages/health_metrics.py", ":material/monitor_heart:"),
)


def next_steps(patient_id: str) -> None:
    """Buttons to the pages that act on this patient (every role that finds patients has these pages)."""
    for col, (label, target, icon) in zip(st.columns(len(NEXT_STEPS)), NEXT_STEPS, strict=True):
        if col.button(label, icon=icon, key=f"patients_go_{target}", width="stretch"):
            st.session_state[SELECTED] = patient_id
            st.switch_page(target)


app, principal = get_app(), require_principal()
region = app.settings.default_region
st.title("Patients")

find_tab, list_tab, new_tab = st.tabs(["Find", "All patients", "Register"])

with find_tab:
    patient = pick_patient("patients_find")
    if patient is None:
        patient_choices("patients_find", "to see their details", anomalies_too=False, register="in the Register tab")
    else:
        st.subheader(md_escape(patient.name))
        notice = st.session_state.pop("patients_edit_notice", None)
        if notice:
            st.success(notice)
        # The age first: it is what a clinician reads off a record; identifiers only when the patient has them.
        facts = [
            _age(patient.dob),
            f"**Sex** {patient.sex or 'not recorded'}",
            f"**Phone** {md_escape(phone_text(patient.phone))}",
            f"**ID** {patient.patient_id}",
        ]
        for label, value in (
            ("External ID", patient.external_id),
            ("ABHA", patient.abha_number),
            ("ABHA address", patient.abha_address),
        ):
            if value:
                facts.append(f"**{label}** {md_escape(value)}")
        st.markdown(" · ".join(facts))
        next_steps(patient.patient_id)
        with st.expander("Edit details"), st.form("patients_edit_form"):
            name = st.text_input("Name", value=patient.name, max_chars=200, key="patients_edit_name")
            phone = st.text_input("Phone", value=patient.phone or "", key="patients_edit_phone")
            dob = st.text_input("Date of birth (YYYY-MM-DD)", value=patient.dob or "", key="patients_edit_dob")
            sex = st.selectbox(
                "Sex", ["", *SEXES], index=(["", *SEXES].index(patient.sex or "")), key="patients_edit_sex"
            )
            ext = st.text_input("External ID", value=patient.external_id or "", key="patients_edit_ext")
            abha_no = st.text_input(
                "ABHA number", value=patient.abha_number or "", help=ABHA_HELP, key="patients_edit_abha"
            )
            abha_addr = st.text_input(
                "ABHA address", value=patient.abha_address or "", help=ADDRESS_HELP, key="patients_edit_abha_addr"
            )
            if st.form_submit_button("Save changes"):
                try:
                    update_patient(
                        app.stores,
                        principal,
                        patient.patient_id,
                        patient.version,
                        PatientInput(name, phone, dob, sex, ext, abha_number=abha_no, abha_address=abha_addr),
                        region,
                    )
                except CopilotError as e:
                    st.error(e.message)
                else:
                    st.session_state["patients_edit_notice"] = "Saved."  # shown after the rerun that reloads it
                    st.rerun()
        wearable_link_form(app, principal, patient)

with list_tab:
    cursors: list[str | None] = st.session_state.setdefault("patients_cursors", [None])
    try:
        page = list_patients(app.stores, principal, cursors[-1], limit=25)
    except CopilotError as e:
        st.error(e.message)
    else:
        st.dataframe(
            [
                {"name": p.name, "phone": phone_text(p.phone), "born": p.dob, "sex": p.sex, "ID": p.patient_id}
                for p in page.items
            ],
            hide_index=True,
            width="stretch",
        )
        pager(cursors, page.next_cursor, "patients", "Previous", "Next")

with new_tab:
    with st.form("patients_new_form", clear_on_submit=False):
        name = st.text_input("Full name *", max_chars=200, key="patients_new_name")
        phone = st.text_input(
            "Phone (mobile)",
            key="patients_new_phone",
            help=f"Numbers without a country code are read as region {region}.",
        )
        dob = st.text_input("Date of birth (YYYY-MM-DD)", key="patients_new_dob")
        sex = st.selectbox("Sex", ["", *SEXES], key="patients_new_sex")
        ext = st.text_input("External ID (optional)", key="patients_new_ext")
        abha_no = st.text_input("ABHA number (optional)", help=ABHA_HELP, key="patients_new_abha")
        abha_addr = st.text_input("ABHA address (optional)", help=ADDRESS_HELP, key="patients_new_abha_addr")
        submitted = st.form_submit_button("Register patient", type="primary")
    if submitted:
        try:
            data = PatientInput(name, phone, dob, sex, ext, abha_number=abha_no, abha_address=abha_addr)
            reg = register_patient(app.stores, principal, data, region)
        except CopilotError as e:
            st.error(e.message)
        else:
            st.session_state[SELECTED] = reg.patient.patient_id
            st.success(f"Registered {md_escape(patient_label(reg.patient))}.")
            if reg.same_phone:
                others = ", ".join(md_escape(patient_label(p)) for p in reg.same_phone)
                st.warning(f"Note: this phone number is also registered for {others}. Check this is not a duplicate.")
