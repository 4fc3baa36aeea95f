"""The ICD-10 code of each diagnosis on the review screen: the suggestion with its title, confirm it, pick another
code (searched by words or by code) or say that no code fits. Codes nobody confirmed are exported as suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from backend.domain import icd10
from backend.domain.errors import CopilotError
from backend.domain.models import Note
from backend.services.access import Principal
from backend.services.notes import choose_diagnosis_code
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App

NO_RESULTS = "No ICD-10 code matches these words; try other words, a shorter word or the code itself (e.g. J45)."


def unconfirmed_codes(note: Note) -> int:
    """How many diagnoses of ``note`` carry a code nobody has confirmed (only suggested from the text)."""
    return sum(1 for d in note.diagnoses if icd10.code_of(d).status == "suggested")


def _status_text(found: icd10.DiagnosisCode, by: str | None) -> str:
    if found.status == "confirmed":
        return f":green[:material/verified: confirmed by {md_escape(by or '—')}]"
    if found.status == "no_code":
        return f":gray[no code — decided by {md_escape(by or '—')}]"
    if found.status == "suggested":
        return ":orange[suggested from the words — not confirmed]"
    return ":orange[no code suggested — pick one or choose “no code”]"


def diagnosis_codes(app: App, principal: Principal, note: Note, editable: bool, key: str) -> None:
    """One row per diagnosis with its code and, on a draft the user may edit, the controls to decide it."""
    if not note.diagnoses:
        return
    st.markdown("**Diagnoses · ICD-10 codes**")
    asked: tuple[int, str | None] | None = None
    for i, d in enumerate(note.diagnoses):
        found = icd10.code_of(d)
        code = f"`{found.code}` {md_escape(found.title or '')}" if found.code else "—"
        possible = " (possible)" if d.certainty == "possible" else ""
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(
            f"**{md_escape(d.text)}**{possible} · {code} · {_status_text(found, d.icd10.by if d.icd10 else None)}"
        )
        if not editable:
            continue
        if found.status == "suggested" and button.button(
            "Confirm", key=f"{key}_dx_{i}_confirm", help=f"{found.code} is the right code for this diagnosis"
        ):
            asked = (i, found.code)
        with st.expander(f"Change the code of “{d.text}”" if found.code else f"Find a code for “{d.text}”"):
            choice = _picker(d.text, f"{key}_dx_{i}")
            use, none = st.columns(2)
            if choice is not None and use.button("Use this code", type="primary", key=f"{key}_dx_{i}_use"):
                asked = (i, choice)
            if found.status != "no_code" and none.button("No code fits", key=f"{key}_dx_{i}_none"):
                asked = (i, None)
    if asked is not None:
        _save(app, principal, note, key, *asked)


def _picker(text: str, key: str) -> str | None:
    """Search WHO ICD-10 by words or code; the code picked from the results, if any."""
    query = st.text_input("Search ICD-10 by words or code", value=text, key=f"{key}_search")
    results = icd10.search(query, limit=25)
    if not results:
        if query.strip():
            st.caption(NO_RESULTS)
        return None
    labels = {f"{code} — {title}": code for code, title in results}
    label = st.selectbox("Code", list(labels), key=f"{key}_pick")
    return labels.get(label) if label else None


def _save(app: App, principal: Principal, note: Note, key: str, index: int, code: str | None) -> None:
    try:
        choose_diagnosis_code(app.stores, principal, note, index, code)
    except CopilotError as e:
        st.error(md_escape(e.message))
        return
    text = md_escape(note.diagnoses[index].text)
    st.session_state[f"{key}_notice"] = (
        f"ICD-10 code of “{text}” set to {code} {icd10.title(code)}." if code else f"“{text}”: no ICD-10 code."
    )
    st.rerun()
