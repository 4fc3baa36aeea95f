"""The patient page's wearable link: the Ultrahuman account whose data the daily sync imports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import Patient
from backend.services.access import Permission, Principal
from backend.services.patients import link_wearable
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App

HELP = (
    "The e-mail address the patient signs in to the Ultrahuman app with. The patient must also enter the "
    "clinic's partner code in that app. Leave empty and save to unlink."
)


def wearable_link_form(app: App, principal: Principal, patient: Patient) -> None:
    """Show the patient's Ultrahuman link and, for roles that edit patients, a form to set or clear it."""
    linked = patient.ultrahuman_email
    with st.expander(f"Wearable: {'Ultrahuman, linked' if linked else 'not linked'}"):
        if linked:
            st.markdown(
                f"Linked to **{md_escape(linked)}**: yesterday's data is imported every day "
                f"at {md_escape(app.settings.sync_at)}."
            )
        if app.settings.ultrahuman_token is None:
            st.caption("No Ultrahuman partner token is configured on this server, so the daily sync does not run yet.")
        if not principal.can(Permission.WRITE_PATIENTS):
            return
        with st.form("patients_wearable_form"):
            email = st.text_input("Ultrahuman account e-mail", value=linked or "", help=HELP, key="patients_wearable")
            if st.form_submit_button("Save link"):
                try:
                    link_wearable(app.stores, principal, patient.patient_id, patient.version, email)
                except CopilotError as e:
                    st.error(e.message)
                else:
                    # The Patients page shows this after the rerun (shown now, it would vanish with the rerun).
                    st.session_state["patients_edit_notice"] = (
                        "Wearable linked." if email.strip() else "Wearable unlinked."
                    )
                    st.rerun()
