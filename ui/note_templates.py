"""Admin: the note templates (built-in and the clinic's own) and uploading a clinic's template file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from backend.domain.drafting.templates import builtin_templates
from backend.domain.errors import CopilotError
from backend.services.access import Principal
from backend.services.note_styles import list_templates, upload_template
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App


def templates_admin(app: App, principal: Principal) -> None:
    """A table of the templates, and an upload box that validates a file before saving it."""
    builtin = builtin_templates()
    templates = list_templates(principal, app.settings.data_dir)
    st.dataframe(
        [
            {
                "name": t.name,
                "title": t.title,
                "sections": ", ".join(s.heading for s in t.sections),
                "words": f"{t.budget.ratio:.0%} of spoken, {t.budget.min_words}-{t.budget.max_words}",
                "source": "built-in" if builtin.get(name) == t else "clinic",
            }
            for name, t in sorted(templates.items())
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "A template is a TOML file: name, title, compress, [budget] ratio/min_words/max_words, and [[sections]] "
        "with a heading and the fields it shows (chief_complaint, hpi, ros, allergies, medications, vitals, exam, "
        "results, diagnoses, assessment, plan, follow_up). A template only arranges the draft's own facts."
    )
    upload = st.file_uploader("Upload a template (.toml)", type=["toml"], key="admin_template_upload")
    if upload is not None and st.button("Save template", key="admin_template_save"):
        try:
            saved = upload_template(app.stores, principal, app.settings.data_dir, upload.name, upload.getvalue())
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            st.success(f"Saved template {saved.name} ({md_escape(saved.title)}).")
