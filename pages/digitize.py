"""Digitize: photograph or upload a prescription, check what was read, save it to the patient's history."""

from __future__ import annotations

from typing import Any

import streamlit as st

from backend.charts.ocr_overlay import outline_boxes
from backend.domain.errors import CopilotError
from backend.domain.models import Medication
from backend.services.digitize import Reading, read_document, save_digitized
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
app, principal = get_app(), require_principal()
deps = app.digitize_deps()
st.title("Digitize")

patient = pick_patient("digitize")
if patient is None:
    st.info("Choose a patient, then photograph or upload their prescription or medication list.")
    st.stop()

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

state = st.session_state.get("digitize_reading")
if state is None or state[0] != patient.patient_id:
    st.stop()
_, reading, data = state
reading: Reading  # type: ignore[no-redef]

if reading.banner:
    st.warning(md_escape(reading.banner))
if reading.unsupported:
    st.warning("Not found in the document (removed): " + "; ".join(md_escape(u) for u in reading.unsupported))
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
    [{c: getattr(m, c) for c in COLUMNS} for m in meds],
    num_rows="dynamic",
    column_config={
        "verified": st.column_config.CheckboxColumn(
            "verified", disabled=True, help="Name found in the drug dictionary"
        ),
        "corrected_from": st.column_config.TextColumn("corrected from", disabled=True),
        "verbatim": st.column_config.TextColumn("as written", disabled=True),
    },
    key="digitize_editor",
    width="stretch",
)


def edited(rows: list[dict[str, Any]]) -> list[Medication]:
    out = []
    for i, row in enumerate(rows):
        name = str(row.get("name") or "").strip()
        if not name:
            continue
        base = meds[i] if i < len(meds) else Medication(name=name, verbatim=name)
        values = {
            c: (row.get(c) or None) for c in COLUMNS if c not in ("name", "verbatim", "verified", "corrected_from")
        }
        out.append(base.model_copy(update={**values, "name": name, "verified": base.verified and name == base.name}))
    return out


if st.button("Save to patient history", type="primary", key="digitize_save"):
    try:
        entry = save_digitized(deps, principal, patient.patient_id, data, reading, edited(list(rows)))
    except CopilotError as e:
        st.error(md_escape(e.message))
    else:
        del st.session_state["digitize_reading"]
        st.success(
            f"Saved {len(entry.medications)} medication(s) with the original document. They are on the patient's timeline."
        )
