"""Timeline: one patient's notes, medication lists, documents and anomalies; reconciled medications; exports."""

from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import now_ms
from backend.domain.plural import counted
from backend.domain.speech_words import speech_sentence
from backend.services.history import document_original, get_history_entry
from backend.services.notes import get_note
from backend.services.timeline import active_medications, build_timeline
from ui.clock import clinic_tz, stored_day, zone_name
from ui.exports import export_panel
from ui.medication_rows import medication_rows, reconciled_rows
from ui.note_review import review_note, when
from ui.pager import pager
from ui.patient_choices import patient_choices
from ui.referral import referral_letter
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.visit_summary import visit_summary_preview
from ui.widgets import pick_patient

KINDS = {"note": "Notes", "medications": "Medication lists", "document": "Documents", "anomaly": "Anomalies"}
ICONS = {
    "note": ":material/description:",
    "medications": ":material/medication:",
    "document": ":material/draft:",
    "anomaly": ":material/monitor_heart:",
}
FOCUS = "timeline_focus"
# Where a medication list came from, in words (the stored source is a code such as "demo").
LIST_SOURCES = {"demo": "demo data", "import": "imported", "api": "sent by an app", "manual": "entered here"}

app, principal = get_app(), require_principal()
st.title("Timeline")
patient = pick_patient("timeline")
if patient is None:
    patient_choices("timeline", "to see their timeline")
    st.stop()

episodes_for = app.episodes().episodes
meds_tab, stream_tab, export_tab = st.tabs(["Active medications", "Timeline", "Export"])

with meds_tab:
    meds = active_medications(app.stores, principal, patient.patient_id, clinic_tz())
    if not meds:
        st.caption(
            "No medications recorded in signed notes or digitized documents yet: they appear here once a note "
            "with medications is signed or a prescription is digitized."
        )
    else:
        # The tab says "active": drugs stopped or declined are a table of their own below it, never read as taken.
        taking = [m for m in meds if m.status in (None, "", "active")]
        not_taking = [m for m in meds if m not in taking]
        if taking:
            st.dataframe(reconciled_rows(taking, status=False), hide_index=True, width="stretch")
        else:
            st.caption("No active medication: none of the recorded ones is being taken now.")
        if not_taking:
            st.markdown(f"**Not taken now** (stopped or declined) · {counted(len(not_taking), 'medication')}")
            st.dataframe(reconciled_rows(not_taking), hide_index=True, width="stretch")
        conflicts = [m for m in meds if m.conflict]
        if conflicts:
            st.warning(
                "Conflicting doses between sources: "
                + "; ".join(md_escape(f"{m.name}: {m.conflict_detail}") for m in conflicts)
            )
        for warning in dict.fromkeys(w for m in meds for w in m.same_class):
            st.warning(md_escape(warning))
        if any(not m.verified for m in meds):
            st.info(
                "Names marked (unverified) were not found in the drug dictionary: check them against the source document."
            )

with stream_tab:
    c1, c2 = st.columns([3, 2])  # the four kinds fit on one line at a laptop's width
    kinds = c1.multiselect(
        "Show", list(KINDS), default=list(KINDS), format_func=KINDS.__getitem__, key="timeline_kinds"
    )
    span = c2.date_input("Dates", value=[], key="timeline_dates")  # an empty range: no dates chosen
    start_ms = end_ms = None
    if isinstance(span, tuple) and len(span) == 2:
        start_ms = int(datetime.combine(span[0], time.min, clinic_tz()).timestamp() * 1000)
        end_ms = int(datetime.combine(span[1], time.max, clinic_tz()).timestamp() * 1000)
    cursors: list[str | None] = st.session_state.setdefault(f"timeline_cursors_{patient.patient_id}", [None])
    try:
        page = build_timeline(
            app.stores,
            principal,
            patient.patient_id,
            set(kinds) or None,
            start_ms,
            end_ms,
            cursors[-1],
            20,
            episodes_for,
            clinic_tz(),
        )
    except CopilotError as e:
        st.error(md_escape(e.message))
        st.stop()
    focus = st.session_state.get(FOCUS) or {}
    st.caption(f"{counted(page.total, 'item')} · times in {zone_name(now_ms())}")
    for item in page.items:
        focused = focus and all(item.ref.get(k) == v for k, v in focus.items())
        # An anomaly or a dated document is a day, not an instant: its date, not 05:30 of it.
        if item.kind == "anomaly":
            stamp = stored_day(item.timestamp)
        elif item.detail.get("document_date"):
            stamp = str(item.detail["document_date"])
        else:
            stamp = when(item.timestamp)[:16]
        status = LIST_SOURCES.get(item.status, item.status) if item.kind == "medications" else item.status
        label = f"{ICONS[item.kind]} {stamp} · {md_escape(item.title)}" + (f" · {md_escape(status)}" if status else "")
        with st.expander(label, expanded=bool(focused)):
            st.markdown(md_escape(item.summary))
            if item.kind == "note":
                if item.detail.get("speech") is not None:
                    st.caption(f":material/mic: {md_escape(speech_sentence(item.detail['speech']))}")
                if st.toggle("Open the note", key=f"timeline_open_{item.timestamp}", value=bool(focused)):
                    note = get_note(app.stores, principal, patient.patient_id, int(item.ref["timestamp"]))
                    review_note(principal, note, key=f"timeline_note_{note.timestamp}")
                    visit_summary_preview(principal, note, key=f"timeline_note_{note.timestamp}")
                    referral_letter(principal, note, key=f"timeline_note_{note.timestamp}")
            elif item.kind in ("medications", "document"):
                entry = get_history_entry(app.stores, principal, patient.patient_id, int(item.ref["timestamp"]))
                if entry.source == "referral":
                    st.text(entry.extracted_text)
                if entry.medications:
                    st.dataframe(
                        medication_rows(
                            entry.medications, ["name", "verbatim", "strength", "frequency", "instructions", "verified"]
                        ),
                        column_config={"verbatim": "as written", "instructions": "timing / instructions"},
                        hide_index=True,
                        width="stretch",
                    )
                if entry.document_key:
                    try:
                        original = document_original(
                            app.stores, app.blobs, principal, entry.patient_id, entry.timestamp
                        )
                    except CopilotError as e:
                        st.error(e.message)
                    else:
                        if (entry.document_mime or "").startswith("image/"):
                            st.image(original, width=320, caption="Original document")
                        st.download_button(
                            "Open the original",
                            original,
                            file_name=f"document-{entry.timestamp}",
                            mime=entry.document_mime or "application/octet-stream",
                            key=f"timeline_doc_{entry.timestamp}",
                        )
    pager(cursors, page.next_cursor, "timeline", "Newer", "Older")

with export_tab:
    export_panel(app, principal, patient, episodes_for)
