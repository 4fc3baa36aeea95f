"""Digitize: photograph or upload a prescription, check what was read, save it to the patient's history."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from backend.charts.ocr_overlay import outline_boxes
from backend.domain.document_identity import IdentityCheck, swapped_day
from backend.domain.errors import CopilotError
from backend.domain.models import Medication, Patient
from backend.services.digitize import Reading, cancel_mismatch, mismatch_summary, read_document, save_digitized
from ui.medication_rows import edited_medications, medication_rows
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.widgets import pick_patient

COLUMNS = [
    "name",
    "verbatim",
    "strength",
    "form",
    "route",
    "frequency",
    "duration",
    "instructions",
    "verified",
    "corrected_from",
]
FIELD_LABELS = {"name": "Name", "age": "Age", "sex": "Sex", "phone": "Phone", "id": "ID / UHID / MRN"}
FIELD_STATUS = {
    "agree": "same",
    "disagree": "DIFFERENT",
    "not_stated": "not on the document",
    "not_recorded": "not recorded",
}
# Widgets of one reading: cleared when a new document is read, so they start from what it says.
READING_KEYS = ("digitize_confirm_patient", "digitize_date", "digitize_use_date")
app, principal = get_app(), require_principal()
deps = app.digitize_deps()
st.title("Digitize")

patient = pick_patient("digitize")
if patient is None:
    st.info("Choose a patient, then photograph or upload their prescription or medication list.")
    st.stop()
if notice := st.session_state.pop("digitize_notice", None):
    st.info(notice)

upload_tab, camera_tab = st.tabs(["Upload", "Camera"])
with upload_tab:
    upload = st.file_uploader(
        "Prescription or medication list (JPEG, PNG, WebP, TIFF or PDF)",
        type=["jpg", "jpeg", "png", "webp", "tif", "tiff", "pdf", "heic"],
        key="digitize_upload",
    )
with camera_tab:
    photo = st.camera_input("Take a photo of the document", key="digitize_camera")
source = upload or photo

if source is not None and st.button("Read document", type="primary", key="digitize_read"):
    data = source.getvalue()
    with st.spinner("Reading the document…"):
        try:
            reading = read_document(deps, principal, patient.patient_id, data, getattr(source, "name", "photo.jpg"))
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            st.session_state["digitize_reading"] = (patient.patient_id, reading, data)
            for k in READING_KEYS:
                st.session_state.pop(k, None)

state = st.session_state.get("digitize_reading")
if state is None or state[0] != patient.patient_id:
    st.stop()
_, reading, data = state
reading: Reading  # type: ignore[no-redef]

if reading.banner:
    st.warning(md_escape(reading.banner))
if reading.unsupported:
    st.warning("Not found in the document (removed): " + "; ".join(md_escape(u) for u in reading.unsupported))


def identity_panel(check: IdentityCheck | None, patient: Patient) -> bool:
    """Who the document names beside the selected patient; True when saving may go ahead."""
    if check is None:
        return True
    if check.status == "match":
        st.success(f"The document names this patient ({md_escape(patient.name)}).", icon=":material/how_to_reg:")
        return True
    if check.status == "not_stated":
        st.info(
            f"The document does not say who it is for (no name, phone or ID found). Check that it is "
            f"{md_escape(patient.name)}'s before saving.",
            icon=":material/help:",
        )
        return True
    st.error(md_escape(mismatch_summary(reading, patient)), icon=":material/person_alert:")
    # A static table: the medication editor stays the page's only data frame.
    dated = check.identity.date is not None
    labels = {**FIELD_LABELS, "age": "Age (on the document's date)" if dated else "Age (today)"}
    table = [
        f"| {labels[f.field]} | {md_escape(f.document) or '—'} | {md_escape(f.record) or '—'} | "
        + (f"**{FIELD_STATUS[f.status]}**" if f.status == "disagree" else FIELD_STATUS[f.status])
        + " |"
        for f in check.fields
        if f.document or f.record
    ]
    st.markdown("\n".join(["| | the document says | selected patient | |", "|---|---|---|---|", *table]))
    ok = st.checkbox(
        f"I have checked: this document belongs to {patient.name} ({patient.patient_id})",
        key="digitize_confirm_patient",
    )
    if st.button("Cancel: wrong patient, do not save", key="digitize_cancel"):
        cancel_mismatch(deps, principal, patient.patient_id, reading)
        del st.session_state["digitize_reading"]
        st.session_state["digitize_notice"] = "Not saved. Choose the right patient above, then read the document again."
        st.rerun()
    return ok


def date_panel(check: IdentityCheck | None) -> date | None:
    """The document's own date, proposed for the timeline; the clinician confirms or edits it."""
    found = check.identity.date if check is not None else None
    today = date.today()
    day = st.date_input(
        "Date of the document",
        value=found.day if found is not None and found.day <= today else None,
        min_value=date(1900, 1, 1),
        max_value=today,
        format="MM/DD/YYYY" if deps.region.upper() == "US" else "DD/MM/YYYY",
        key="digitize_date",
    )
    if found is not None:
        swap = ""
        if found.ambiguous and (other := swapped_day(found.day)) is not None:
            swap = (
                f" Read as {found.day:%d %B %Y}; with day and month the other way round it is {other:%d %B %Y}: check."
            )
        st.caption(f"Read from the document: “{md_escape(found.text)}”.{swap}")
    else:
        st.caption("No date found on the document. Enter it if you know it.")
    others = [d for d in check.identity.other_dates if d.kind in ("follow_up", "future")] if check else []
    if others:
        st.caption(
            "Other dates on the page, not the document's date: "
            + "; ".join(f"{d.day.isoformat()} (“{md_escape(d.text)}”)" for d in others)
        )
    use = st.checkbox(
        "Put it on the timeline on this date (the upload date is kept too)",
        key="digitize_use_date",
        disabled=day is None,
    )
    return day if use and isinstance(day, date) else None


st.subheader("Patient and date")
patient_ok = identity_panel(reading.identity, patient)
document_date = date_panel(reading.identity)
st.subheader("What was read")
for page in reading.pages:
    boxes = [f.box for f in reading.found if f.page == page.index]
    left, right = st.columns([1, 1])
    left.image(
        outline_boxes(page.image_preview, page.size, boxes),
        caption=f"Page {page.index + 1} ({'text layer' if page.source == 'text-layer' else 'OCR'}) — medication lines outlined",
    )
    right.text_area(
        f"Text of page {page.index + 1}", page.text, height=300, disabled=True, key=f"digitize_text_{page.index}"
    )

st.subheader("Medications")
meds = reading.medications
unverified = [m.verbatim or m.name for m in meds if not m.verified]
if unverified:
    st.warning(
        "Not found in the drug dictionary — check against the document: " + ", ".join(md_escape(n) for n in unverified)
    )
corrected = [f"{m.name} (read as “{m.corrected_from}”)" for m in meds if m.corrected_from]
if corrected:
    st.info("Corrected reading errors: " + ", ".join(md_escape(c) for c in corrected))
rows = st.data_editor(
    medication_rows(meds, COLUMNS),
    num_rows="dynamic",
    column_config={
        "verified": st.column_config.CheckboxColumn(
            "verified", disabled=True, help="Name found in the drug dictionary"
        ),
        "corrected_from": st.column_config.TextColumn("corrected from", disabled=True),
        "verbatim": st.column_config.TextColumn("as written", disabled=True),
        "instructions": st.column_config.TextColumn(
            "timing / instructions", help="As written: before breakfast, after food, on an empty stomach…"
        ),
    },
    key="digitize_editor",
    width="stretch",
)


def edited(rows: list[dict[str, Any]]) -> list[Medication]:
    # What was read from the page and the verification flag are shown, never written back.
    shown_only = ("verbatim", "verified", "corrected_from")
    return edited_medications(rows, meds, [c for c in COLUMNS if c not in shown_only], added_verbatim=True)


if not patient_ok:
    st.caption("Confirm the patient above (or cancel) before saving.")
if st.button("Save to patient history", type="primary", key="digitize_save", disabled=not patient_ok):
    try:
        entry = save_digitized(
            deps,
            principal,
            patient.patient_id,
            data,
            reading,
            edited(list(rows)),
            document_date=document_date,
            confirm_patient=patient_ok,
        )
    except CopilotError as e:
        st.error(md_escape(e.message))
    else:
        del st.session_state["digitize_reading"]
        when = f"dated {entry.document_date}" if entry.document_date else "dated by today's upload"
        st.success(
            f"Saved {len(entry.medications)} medication(s) with the original document. They are on the "
            f"patient's timeline, {when}."
        )
