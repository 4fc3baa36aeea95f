"""Digitize: photograph or upload a prescription, check what was read, save it to the patient's history."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from backend.charts.ocr_overlay import outline_boxes
from backend.domain.document_identity import IdentityCheck, swapped_day
from backend.domain.errors import CopilotError
from backend.domain.models import Job, JobStatus, Medication, Patient, now_ms
from backend.domain.plural import counted
from backend.services import document_jobs
from backend.services.digitize import Reading, mismatch_summary
from backend.services.scribe import IN_PROGRESS
from ui.clock import clinic_day
from ui.medication_rows import edited_medications, medication_rows
from ui.note_review import when
from ui.patient_choices import patient_choices
from ui.runtime import get_app, require_principal, rerun_app_quietly
from ui.safe import md_escape
from ui.widgets import pick_patient

# What was read and whether the name is known come first: at a laptop's width the table scrolls sideways.
COLUMNS = [
    "name",
    "verbatim",
    "verified",
    "strength",
    "frequency",
    "form",
    "route",
    "duration",
    "instructions",
    "corrected_from",  # the corrections are also named above the table
]
FIELD_LABELS = {"name": "Name", "age": "Age", "sex": "Sex", "phone": "Phone", "id": "ID / UHID / MRN"}
FIELD_STATUS = {
    "agree": "same",
    "disagree": "DIFFERENT",
    "not_stated": "not on the document",
    "not_recorded": "not recorded",
}
# For a document job, "transcribing" means its pages are being read (OCR, in the worker).
PROGRESS = {
    JobStatus.QUEUED: "Waiting for the document reader (other documents and recordings are ahead)…",
    JobStatus.TRANSCRIBING: "Reading the document…",
    JobStatus.DRAFTING: "Reading the document…",
}
# Widgets of one reading: cleared when a new document is read, so they start from what it says.
READING_KEYS = ("digitize_confirm_patient", "digitize_date", "digitize_use_date")
app, principal = get_app(), require_principal()
deps = app.digitize_deps()
st.title("Digitize")

patient = pick_patient("digitize")
if patient is None:
    patient_choices("digitize", "to photograph or upload their prescription or medication list", anomalies_too=False)
    st.stop()
if notice := st.session_state.pop("digitize_notice", None):
    st.info(notice)

upload_tab, camera_tab = st.tabs(["Upload", "Camera"])
with upload_tab:
    upload = st.file_uploader(
        "Prescription or medication list (photo or scan: JPEG, PNG, HEIC, WebP, TIFF, or a PDF of up to "
        f"{app.limits.max_document_pages} pages)",
        type=list(app.limits.document_extensions),
        key="digitize_upload",
        # The documents' own limit, so the box states it (not the server-wide upload size of recordings).
        max_upload_size=max(1, app.limits.max_document_bytes // (1024 * 1024)),
    )
with camera_tab:
    photo = st.camera_input("Take a photo of the document", key="digitize_camera")
source = upload or photo


def forget_reading() -> None:
    """Clear this page's state of the reading shown (and the widgets that started from it)."""
    for k in ("digitize_job", "digitize_reading", *READING_KEYS):
        st.session_state.pop(k, None)


if source is not None and st.button("Read document", type="primary", key="digitize_read"):
    # OCR runs in the worker, not in this page's process: the page submits and shows progress.
    try:
        submitted = document_jobs.submit_document(
            deps,
            app.queue,
            principal,
            patient.patient_id,
            source.getvalue(),
            getattr(source, "name", "photo.jpg"),
            source="upload" if source is upload else "browser",
        )
    except CopilotError as e:
        st.error(md_escape(e.message))
    else:
        forget_reading()
        st.session_state["digitize_job"] = submitted.job_id

# This user's documents for the patient: the one just submitted, else the newest (a reload loses nothing).
jobs = document_jobs.list_document_jobs(deps, principal, patient.patient_id)
if not jobs:
    st.stop()
by_id = {j.job_id: j for j in jobs}
if st.session_state.get("digitize_job") not in by_id:
    forget_reading()
    st.session_state["digitize_job"] = jobs[0].job_id


def _switched() -> None:
    for k in ("digitize_reading", *READING_KEYS):
        st.session_state.pop(k, None)


if len(jobs) > 1:
    job_ids: list[str] = list(by_id)
    st.selectbox(
        "Document",
        job_ids,
        format_func=lambda i: f"{when(by_id[i].created_at)} · {by_id[i].filename} · {by_id[i].status.value}",
        key="digitize_job",
        on_change=_switched,
    )
job: Job = by_id[st.session_state["digitize_job"]]
JOB_ID, PATIENT_ID = job.job_id, patient.patient_id


@st.fragment(run_every=1.0)
def progress() -> None:
    """Polls the job while the worker has it; the whole page reruns once the reading is stored (or failed)."""
    try:
        current = document_jobs.document_job(deps, principal, PATIENT_ID, JOB_ID)
    except CopilotError:
        rerun_app_quietly()
    if current.status not in IN_PROGRESS:
        rerun_app_quietly()  # not the nurse's action (nor, if she clicked meanwhile, over her click)
    st.info(PROGRESS[current.status] + " The list appears here when it is ready; you can keep working meanwhile.")


if job.status in IN_PROGRESS:
    progress()
    st.stop()
if job.status is JobStatus.FAILED:
    st.error(md_escape(job.error or "Reading this document failed."))
    if st.button("Dismiss", key="digitize_dismiss"):
        document_jobs.discard_reading(deps, principal, patient.patient_id, JOB_ID)
        forget_reading()
        st.rerun()
    st.stop()

held = st.session_state.get("digitize_reading")
if held is None or held[0] != JOB_ID:
    try:
        loaded = document_jobs.load_reading(deps, principal, patient.patient_id, JOB_ID)
    except CopilotError as e:
        st.error(md_escape(e.message))
        st.stop()
    if loaded is None:
        st.stop()
    held = (JOB_ID, loaded)
    st.session_state["digitize_reading"] = held
reading: Reading = held[1]

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
    st.error(md_escape(mismatch_summary(reading, patient, deps.today())), icon=":material/person_alert:")
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
        f"I have checked: this document belongs to {md_escape(patient.name)} ({patient.patient_id})",
        key="digitize_confirm_patient",
    )
    if st.button("Cancel: wrong patient, do not save", key="digitize_cancel"):
        document_jobs.discard_reading(deps, principal, patient.patient_id, JOB_ID)
        forget_reading()
        st.session_state["digitize_notice"] = "Not saved. Choose the right patient above, then read the document again."
        st.rerun()
    return ok


def date_panel(check: IdentityCheck | None) -> date | None:
    """The document's own date, proposed for the timeline; the clinician confirms or edits it."""
    found = check.identity.date if check is not None else None
    today = clinic_day(now_ms())  # the clinic's today: at 00:30 in Kolkata the UTC day is still yesterday
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
    placeholder="",  # an empty cell reads as empty, not as the word "None"
)


def edited(rows: list[dict[str, Any]]) -> list[Medication]:
    # What was read from the page and the verification flag are shown, never written back.
    shown_only = ("verbatim", "verified", "corrected_from")
    return edited_medications(rows, meds, [c for c in COLUMNS if c not in shown_only], added_verbatim=True)


if not patient_ok:
    st.caption("Confirm the patient above (or cancel) before saving.")
if st.button("Save to patient history", type="primary", key="digitize_save", disabled=not patient_ok):
    try:
        entry = document_jobs.save_reading(
            deps,
            principal,
            patient.patient_id,
            JOB_ID,
            edited(list(rows)),
            document_date=document_date,
            confirm_patient=patient_ok,
        )
    except CopilotError as e:
        st.error(md_escape(e.message))
    else:
        forget_reading()
        when_dated = f"dated {entry.document_date}" if entry.document_date else "dated by today's upload"
        st.success(
            f"Saved {counted(len(entry.medications), 'medication')} with the original document. "
            f"{'It is' if len(entry.medications) == 1 else 'They are'} on the patient's timeline, {when_dated}."
        )
