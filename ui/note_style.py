"""The note-style picker of the review screen: the same draft as the full SOAP note, the brief note or a template."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from backend.domain.drafting.styles import FULL
from backend.domain.errors import CopilotError
from backend.domain.models import Note
from backend.services.access import Permission, Principal
from backend.services.note_styles import (
    apply_style,
    can_restyle,
    default_style,
    list_templates,
    set_default_style,
    style_titles,
)
from backend.services.notes import SECTIONS
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App


def _edited(note: Note, key: str) -> bool:
    """Saved edits, or text typed in a section box since the last save (the boxes' keys are ``<key>_<section>``)."""
    typed = any(
        str(st.session_state.get(f"{key}_{s}", note.sections.get(s, "")) or "").strip()
        != (note.sections.get(s) or "").strip()
        for s in SECTIONS
    )
    return bool(note.edited_by) or typed


def style_picker(app: App, principal: Principal, note: Note, key: str) -> None:
    """Pick the note's style; switching re-renders the draft's facts (and asks first when the text was edited).

    A new draft opens in the user's default style. Re-rendering reruns the page with the new text in the boxes.
    """
    if not can_restyle(note) or not principal.can(Permission.EDIT_NOTES):
        return
    edited = _edited(note, key)
    templates = list_templates(principal, app.settings.data_dir)
    titles = style_titles(templates)
    current = note.style or FULL
    if note.style is None and not edited:
        preferred = default_style(app.stores, principal)
        if preferred != current and preferred in titles:
            _switch(app, principal, note, key, preferred, templates)
            return
    names = list(titles)
    col, default_col = st.columns([3, 1], vertical_alignment="bottom")
    chosen = col.selectbox(
        "Note style",
        names,
        index=names.index(current) if current in names else 0,
        format_func=lambda n: titles[n],
        key=f"{key}_style",
        help="The same facts and evidence, written as the full SOAP note, a brief clinic note or a clinic template.",
    )
    if default_col.button("Make my default", key=f"{key}_style_default"):
        try:
            set_default_style(app.stores, principal, chosen, templates)
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            st.success(f"New drafts open as: {titles[chosen]}.")
    if chosen == current:
        return
    if not edited:
        _switch(app, principal, note, key, chosen, templates)
        return
    st.warning(f"Switching to {titles[chosen]} writes the draft again in that style; your edits of the text are lost.")
    if st.button(f"Switch to {titles[chosen]}", type="primary", key=f"{key}_style_confirm"):
        _switch(app, principal, note, key, chosen, templates)


def _switch(app: Any, principal: Principal, note: Note, key: str, style: str, templates: dict[str, Any]) -> None:
    try:
        apply_style(app.stores, principal, note, style, templates)
    except CopilotError as e:
        st.error(md_escape(e.message))
        return
    # Widgets keep what they showed: drop them so the re-rendered text is what appears.
    for k in [*(f"{key}_{s}" for s in SECTIONS), f"{key}_style"]:
        st.session_state.pop(k, None)
    st.rerun()
