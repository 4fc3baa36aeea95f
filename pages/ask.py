"""Ask: questions about one patient answered from their records with citations; cross-patient search."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError
from backend.services.ask import ask, search_by_medication_or_diagnosis
from ui.clock import clinic_tz
from ui.patient_choices import patient_choices
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.widgets import SELECTED, patient_label, pick_patient

app, principal = get_app(), require_principal()
st.title("Ask")
one_tab, all_tab = st.tabs(["About one patient", "Across patients"])


def open_citation(patient_id: str, ref: dict[str, object]) -> None:
    """Show the cited record on the Timeline page, opened."""
    st.session_state[SELECTED] = patient_id
    st.session_state["timeline_focus"] = {k: v for k, v in ref.items() if k in ("timestamp", "day", "start_day")}
    st.switch_page("pages/timeline.py")


with one_tab:
    patient = pick_patient("ask")
    if patient is None:
        st.caption("To find every patient on a medicine or with a diagnosis, use the Across patients tab.")
        patient_choices("ask", "to ask about their notes, medications, documents and health metrics")
    else:
        app.ask_cache().prepare(patient.patient_id)  # built in the background while the question is typed
        with st.form("ask_form"):
            question = st.text_input(
                "Question",
                placeholder="e.g. Is she on metformin? When was her last fever?",
                max_chars=1000,
                key="ask_question",
            )
            asked = st.form_submit_button("Ask", type="primary")
        if asked:
            try:
                st.session_state["ask_answer"] = (
                    patient.patient_id,
                    ask(
                        app.stores,
                        principal,
                        patient.patient_id,
                        question,
                        cache=app.ask_cache(),
                        metric_passages=app.episodes().metric_passages,
                        llm=app.answerer(),
                    ),
                )
            except CopilotError as e:
                st.error(md_escape(e.message))
        pid, answer = st.session_state.get("ask_answer", (None, None))
        if answer is not None and pid == patient.patient_id:
            st.markdown("**Answer**")
            st.markdown(md_escape(answer.text))
            if answer.note:
                st.caption(md_escape(answer.note))
            if answer.citations:
                st.markdown("**Sources**")
                for i, c in enumerate(answer.citations, start=1):
                    col1, col2 = st.columns([5, 1])
                    col1.markdown(f"[{i}] **{md_escape(c.label)}** — {md_escape(c.snippet)}")
                    if col2.button("Open in timeline", key=f"ask_open_{i}"):
                        open_citation(patient.patient_id, c.ref)
            with st.expander("Passages retrieved (how closely each matched the question, 0 to 1)"):
                for p in answer.passages:
                    st.markdown(f"`{p.score:.2f}` **{md_escape(p.label)}** — {md_escape(p.text[:300])}")

with all_tab:
    with st.form("ask_search_form"):
        term = st.text_input("Medication or diagnosis", placeholder="metformin", max_chars=100, key="ask_term")
        searched = st.form_submit_button("Find patients")
    if searched:
        try:
            matches = search_by_medication_or_diagnosis(app.stores, principal, term, tz=clinic_tz())
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            if not matches:
                st.info(
                    f"No patient's records mention “{md_escape(term.strip())}”: check the spelling, or try the "
                    "generic name (metformin, not Glycomet) or the diagnosis in other words."
                )
            for m in matches:
                col1, col2 = st.columns([5, 1])
                col1.markdown(f"**{md_escape(patient_label(m.patient))}** — {md_escape('; '.join(m.evidence[:2]))}")
                if col2.button("Timeline", key=f"ask_pt_{m.patient.patient_id}"):
                    st.session_state[SELECTED] = m.patient.patient_id
                    st.switch_page("pages/timeline.py")
