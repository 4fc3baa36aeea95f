"""The Health metrics page's import progress: polls the import job, then shows its report (or why it failed)."""

from __future__ import annotations

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.metrics import ImportReport
from backend.domain.plural import counted
from backend.services.metrics_jobs import MetricsJobDeps, import_job, import_report, retry_import
from backend.services.scribe import IN_PROGRESS
from ui.runtime import require_principal, rerun_app_quietly
from ui.safe import md_escape

IMPORT_JOB = "metrics_import_job"  # the job id of this session's last import


def show_import(deps: MetricsJobDeps, job_id: str | None) -> None:
    """Progress while the worker imports ``job_id``; then its report, or its error with a retry button."""
    if job_id is None:
        return
    principal = require_principal()
    try:
        job = import_job(deps, principal, job_id)
    except CopilotError:
        st.session_state.pop(IMPORT_JOB, None)
        return
    if job.status in IN_PROGRESS:
        _progress(deps, job_id)
        return
    try:
        report = import_report(deps, principal, job_id)
    except CopilotError as e:
        st.error(md_escape(e.message))
        if st.button("Retry the import", key="metrics_retry"):
            retry_import(deps, principal, job_id)
            st.rerun()
        return
    if report is not None:
        _report(report)


@st.fragment(run_every=1.0)
def _progress(deps: MetricsJobDeps, job_id: str) -> None:
    """Polls the job; the whole page reruns once it is imported (or failed), so the charts show the new days."""
    try:
        job = import_job(deps, require_principal(), job_id)
    except CopilotError:
        rerun_app_quietly()
    if job.status not in IN_PROGRESS:
        rerun_app_quietly()
    waiting = "Waiting for the worker" if job.status.value == "queued" else "Importing"
    st.info(f"{waiting}: “{md_escape(job.filename[:80])}”. You can keep working; the report appears here.")


def _report(report: ImportReport) -> None:
    st.success(md_escape(report.summary()))
    for note in report.notes:
        st.caption(md_escape(note))
    if report.unknown_metrics:
        st.warning("Unknown metric names (ignored): " + ", ".join(md_escape(m) for m in report.unknown_metrics))
    if report.rejected:
        st.warning(f"{counted(report.rejected_total, 'row')} rejected:")
        st.dataframe([{"line": line, "reason": reason} for line, reason in report.rejected[:200]], hide_index=True)
