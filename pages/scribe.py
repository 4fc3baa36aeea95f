"""Scribe: record or upload a consultation, follow the job, review and sign the draft."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import JobStatus
from backend.services import scribe
from backend.services.notes import list_notes
from ui.live_recorder import live_tab
from ui.note_review import review_note, when
from ui.patient_choices import patient_choices
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.visit_summary import visit_summary_preview
from ui.widgets import pick_patient

app, principal = get_app(), require_principal()
deps = app.scribe_deps()
st.title("Scribe")

speech_warning = app.speech_warning()
if speech_warning:
    st.warning(md_escape(speech_warning))
patient = pick_patient("scribe")
if patient is None:
    patient_choices("scribe", "to record their consultation", anomalies_too=False)
    st.stop()
PATIENT_ID = patient.patient_id  # the functions below read it; a module-level None check does not reach them
OPEN_NOTE = "scribe_open_note"  # the draft a finished job opens for review on the next full run

STATUS = {
    JobStatus.QUEUED: ":material/hourglass_empty: queued",
    JobStatus.TRANSCRIBING: ":material/hearing: transcribing",
    JobStatus.DRAFTING: ":material/edit_note: drafting",
    JobStatus.READY: ":material/task_alt: ready for review",
    JobStatus.FAILED: ":material/error: failed",
}


SAVED = (
    "Recording saved. Its draft is being prepared: follow it under Recordings below; it opens here for review "
    "when it is ready (you can leave this page and come back)."
)
NOTICE = "scribe_notice"  # what the last submit said: ("error", reason) for one run, ("saved", job id) while it runs


def submit(data: bytes, filename: str, source: str) -> bool:
    """Queue a recording for a draft; whether it was accepted (the notice below the tabs says which)."""
    try:
        job = scribe.submit_recording(deps, principal, PATIENT_ID, data, filename, source)
    except CopilotError as e:
        st.session_state[NOTICE] = ("error", e.message)
        return False
    st.session_state.setdefault("scribe_submitted", set()).add(job.job_id)
    # The job's id means nothing to a nurse: the notice says where the draft will appear instead.
    st.session_state[NOTICE] = ("saved", job.job_id)
    return True


record_tab, upload_tab, live_tab_container = st.tabs(["Record", "Upload audio", "Live"])
with record_tab:
    audio = st.audio_input("Record the consultation", sample_rate=16000, key="scribe_audio")
    if audio is not None and st.button("Create draft from recording", type="primary", key="scribe_submit_recording"):
        submit(audio.getvalue(), "recording.wav", "browser")
with upload_tab:
    upload = st.file_uploader(
        "Audio file (wav, mp3, m4a, ogg, webm, flac)",
        type=list(deps.limits.audio_extensions),
        key="scribe_upload",
    )
    # The file stays in the box after it was sent: a second click would queue the same consultation twice.
    sent = upload is not None and st.session_state.get("scribe_sent_upload") == upload.file_id
    upload_action = st.empty()  # the button, or once sent the caption that replaces it in place
    if upload is not None and sent:
        upload_action.caption(
            f"{md_escape(upload.name)} was sent for a draft (see Recordings). Choose another file for the next one."
        )
    elif (
        upload is not None
        and upload_action.button("Create draft from file", type="primary", key="scribe_submit_upload")
        and submit(upload.getvalue(), upload.name, "upload")
    ):
        st.session_state["scribe_sent_upload"] = upload.file_id
with live_tab_container:
    # The WebRTC component starts only on request: it reruns the page when it initialises, which should not
    # happen on every visit (and must not race an upload on the other tabs).
    if st.toggle("Start live mode (stream the microphone with live captions)", key="scribe_live_on"):
        live_tab(app, principal, patient.patient_id, deps, submit=submit)


# Poll only while this patient has work in progress: an idle page does not rerun (and never races an upload).
jobs_now = scribe.list_jobs(deps, principal, patient.patient_id)
busy = any(j.status in scribe.IN_PROGRESS for j in jobs_now)

# The submit's notice has one place that every full run writes, a message or nothing: the run that opens the
# draft replaces it there, rather than leaving the browser to clear what an earlier run drew in a tab.
notice = st.empty()
kind, said = st.session_state.get(NOTICE, ("", ""))
if kind == "error":
    notice.error(md_escape(said))
    del st.session_state[NOTICE]
elif kind == "saved" and not any(j.job_id == said and j.status not in scribe.IN_PROGRESS for j in jobs_now):
    notice.success(SAVED)  # until its job is done (a job not listed yet was only just saved)
else:
    st.session_state.pop(NOTICE, None)


@st.fragment(run_every=2.0 if busy else None)
def jobs_panel() -> None:
    jobs = scribe.list_jobs(deps, principal, PATIENT_ID)
    if not jobs:
        st.caption("No recordings yet for this patient: record the consultation above, or upload an audio file.")
        return
    st.markdown("**Recordings**")
    for job in jobs[:10]:
        cols = st.columns([5, 2, 3, 1, 1])  # the time and file name on one line at a laptop's width
        cols[0].markdown(f"{when(job.created_at)} · {md_escape(job.filename)}")
        cols[1].markdown(STATUS[job.status])
        cols[2].markdown(md_escape(job.error or ""))
        if job.status is JobStatus.FAILED:
            if cols[3].button("Retry", key=f"scribe_retry_{job.job_id}"):
                scribe.retry_job(deps, principal, job.job_id)
                st.rerun()
            if cols[4].button("Delete", key=f"scribe_delete_{job.job_id}"):
                scribe.delete_job(deps, principal, job.job_id)
                st.rerun()
    # A job of this session just finished: open its draft for review.
    mine: set[str] = st.session_state.setdefault("scribe_submitted", set())
    finished = [j for j in jobs if j.job_id in mine and j.status is JobStatus.READY and j.result_note_ts]
    if finished:
        mine.difference_update(j.job_id for j in finished)
        # Not the Note box's own key: a click that lands with this rerun carries the box's old value, which
        # would win over one set here; the next full run chooses the draft before it draws the box.
        st.session_state[OPEN_NOTE] = finished[0].result_note_ts  # (a session-state write is a yield point too)
        st.rerun(scope="app")
    if busy and not any(j.status in scribe.IN_PROGRESS for j in jobs):
        st.rerun(scope="app")  # all done: stop polling


jobs_panel()

st.divider()
st.subheader("Review")
drafts = list_notes(app.stores, principal, patient.patient_id, limit=20).items
if not drafts:
    st.caption("No notes yet for this patient: record or upload a consultation above, and its draft appears here.")
    st.stop()
by_ts = {n.timestamp: n for n in drafts}
if st.session_state.get(OPEN_NOTE) in by_ts:  # a draft that just finished opens for review
    st.session_state["scribe_note_choice"] = st.session_state.pop(OPEN_NOTE)
# The options name each note by its time only: the browser keeps an option's first label while its value stays
# selected, so a status in it would still read "draft" after signing (the status is in the review's first line).
choice = st.selectbox(
    "Note",
    list(by_ts),
    format_func=lambda ts: f"{when(ts)}" + (" (amendment)" if by_ts[ts].amends else ""),
    key="scribe_note_choice",
)
review_note(principal, by_ts[choice], key=f"scribe_review_{choice}")
# Once signed, the after-visit summary is printed from here, where the visit was just reviewed (doctors).
visit_summary_preview(principal, by_ts[choice], key=f"scribe_review_{choice}")
