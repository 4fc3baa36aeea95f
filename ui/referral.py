"""The "Referral letter" box under a signed note: to whom and why, the letter to edit, save and download."""

from __future__ import annotations

import zlib

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import Note, NoteStatus
from backend.domain.referral import addressed, render_text, text_html
from backend.services.access import Permission, Principal
from backend.services.referral import draft_referral, save_referral
from ui.runtime import get_app
from ui.safe import md_escape


def referral_letter(principal: Principal, note: Note, key: str) -> None:
    """Draft a referral from a signed note, let the doctor edit it, save it to the timeline or download it."""
    if note.status is not NoteStatus.SIGNED or not principal.can(Permission.EXPORT):
        return
    # A bordered box, not an expander: the note already sits in the timeline's expander (they do not nest).
    with st.container(border=True):
        st.markdown("**:material/forward_to_inbox: Referral letter** · from this note and the active medications")
        if not st.toggle("Write a referral", key=f"{key}_referral_show"):
            return
        app = get_app()
        made = f"{key}_referral_{note.version}"  # drafted (and audited) once per note version
        try:
            if made not in st.session_state:
                st.session_state[made] = draft_referral(
                    app.stores, principal, note.patient_id, note.timestamp, tz=app.settings.clinic_tz()
                )
        except CopilotError as e:
            st.error(md_escape(e.message))
            return
        draft = st.session_state[made]
        for notice in draft.notices:
            st.warning(md_escape(notice))
        to = st.text_input("To (specialist, department or hospital)", key=f"{key}_referral_to")
        reason = st.text_area("Reason for referral", value=draft.reason_suggestion or "", key=f"{key}_referral_reason")
        if draft.reason_suggestion:
            st.caption("The reason starts from the note's assessment: rewrite it in your words.")
        # The letter is redrawn when the recipient or reason changes (its key names them), so type those first.
        letter = st.text_area(
            "Letter (edit before saving)",
            value=render_text(addressed(draft, to, reason)),
            height=420,
            key=f"{key}_referral_letter_{zlib.crc32(repr((to, reason)).encode())}",
        )
        left, right = st.columns(2)
        if left.button(
            "Save to the timeline", key=f"{key}_referral_save", disabled=not (to.strip() and reason.strip())
        ):
            try:
                save_referral(app.stores, principal, note.patient_id, letter, to, reason)
            except CopilotError as e:
                st.error(md_escape(e.message))
            else:
                st.success("Referral letter saved to the patient's timeline.")
        right.download_button(
            "Download (HTML)",
            text_html(letter, f"Referral letter: {draft.patient_name}"),
            file_name=f"{note.patient_id}-referral-{note.timestamp}.html",
            mime="text/html",
            key=f"{key}_referral_html",
        )
