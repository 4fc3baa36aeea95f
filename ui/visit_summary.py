"""The "Patient summary" preview of a signed note: language, the page as the patient gets it, downloads."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from backend.domain.errors import CopilotError
from backend.domain.models import Note, NoteStatus
from backend.domain.visit_summary_lang import available
from backend.services.access import Permission, Principal
from backend.services.visit_summary import visit_summary
from ui.runtime import get_app
from ui.safe import md_escape


def visit_summary_preview(principal: Principal, note: Note, key: str) -> None:
    """Preview the after-visit summary of a signed note before it is printed or downloaded (doctors only)."""
    if note.status is not NoteStatus.SIGNED or not principal.can(Permission.EXPORT):
        return
    # A bordered box, not an expander: the note already sits in the timeline's expander (they do not nest).
    with st.container(border=True):
        st.markdown("**:material/print: Patient summary** · the after-visit summary the patient takes home")
        languages = available()
        lang = st.selectbox("Language", list(languages), format_func=lambda c: languages[c], key=f"{key}_summary_lang")
        if not st.toggle("Preview", key=f"{key}_summary_show"):
            st.caption("Preview the summary the patient takes home before you print or download it.")
            return
        app = get_app()
        made = f"{key}_summary_{note.version}_{lang}"  # made (and audited) once per note version and language
        try:
            if made not in st.session_state:
                st.session_state[made] = visit_summary(
                    app.stores, principal, note.patient_id, lang, "html", note.timestamp, tz=app.settings.clinic_tz()
                )
        except CopilotError as e:
            st.error(md_escape(e.message))
            return
        page = st.session_state[made]
        for notice in page.summary.notices:
            st.warning(md_escape(notice))
        components.html(page.content.decode("utf-8"), height=900, scrolling=True)
        name = f"{note.patient_id}-visit-{note.timestamp}-{lang}"
        left, right = st.columns(2)
        left.download_button(
            "Download (HTML)", page.content, file_name=f"{name}.html", mime="text/html", key=f"{key}_summary_html"
        )
        if right.button("Prepare PDF", key=f"{key}_summary_pdf"):
            try:
                pdf = visit_summary(
                    app.stores,
                    principal,
                    note.patient_id,
                    lang,
                    "pdf",
                    note.timestamp,
                    pdf=app.summary_pdf(),
                    tz=app.settings.clinic_tz(),
                )
            except CopilotError as e:
                st.error(md_escape(e.message))
            else:
                right.download_button(
                    "Download (PDF)", pdf.content, file_name=f"{name}.pdf", mime="application/pdf",
                    key=f"{key}_summary_pdf_download",
                )  # fmt: skip
