"""Health metrics: per-patient charts against the patient's own baseline, imports, and the doctor's cohort view."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import streamlit as st

from backend.charts.metrics import build_patient_page, how_to_read
from backend.domain.anomaly.rules import load_rules
from backend.domain.errors import CopilotError
from backend.services.access import Permission
from backend.services.cohort import recent_anomalies
from backend.services.metrics import patient_days
from backend.services.metrics_jobs import submit_import
from ui.clock import clinic_tz
from ui.metrics_import import IMPORT_JOB, show_import
from ui.patient_choices import patient_choices
from ui.runtime import get_app, require_principal
from ui.safe import md_escape
from ui.widgets import SELECTED, pick_patient

TEMPLATES = Path(__file__).resolve().parent.parent / "backend" / "data" / "templates"
app, principal = get_app(), require_principal()
st.title("Health metrics")

# The patient is chosen above the tabs, as on every other page: Charts and Import both act on them.
patient = pick_patient("metrics")
tabs = ["Charts", "Import"] + (["Cohort"] if principal.can(Permission.SIGN_NOTES) else [])
panes = dict(zip(tabs, st.tabs(tabs), strict=True))

with panes["Charts"]:
    if patient is None:
        patient_choices("metrics", "to see their wearable data")
    else:
        daily = patient_days(principal, app.stores, patient.patient_id)
        if daily.empty:
            st.info("No wearable data for this patient yet. Import a file in the Import tab.")
        else:
            last = daily["day"].max()
            last_day = last.date() if hasattr(last, "date") else date.fromisoformat(str(last))
            first_day = max(
                last_day - timedelta(days=89),
                (daily["day"].min().date() if hasattr(daily["day"].min(), "date") else last_day),
            )
            chosen = st.date_input("Date range", value=(first_day, last_day), key="metrics_range")
            start, end = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (first_day, last_day)
            view = build_patient_page(daily, start=start, end=end)
            if view.episodes:
                st.markdown("**Anomalies in this range**")
                for ep in view.episodes:
                    icon = ":material/sick:" if ep.kind == "illness" else ":material/warning:"
                    st.markdown(f"{icon} **{ep.start_day} → {ep.end_day}** · {md_escape(ep.explanation)}")
            else:
                st.success("No anomalies against this patient's own baseline in this range.")
            rules = load_rules()
            st.caption(how_to_read(rules))
            st.plotly_chart(view.illness, width="stretch", key="metrics_illness")
            for metric, fig in view.figures.items():
                st.plotly_chart(fig, width="stretch", key=f"metrics_fig_{metric}")

with panes["Import"]:
    st.markdown(
        "Upload wearable data: CSV (long `patient_id,timestamp,metric,value,unit` or wide daily), Ultrahuman JSON, "
        "Apple Health `export.xml`/`export.zip`, or a FHIR R4 Observation bundle."
    )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Long CSV template",
        (TEMPLATES / "metrics_long_template.csv").read_bytes(),
        "metrics_long_template.csv",
        "text/csv",
        key="metrics_tpl_long",
    )
    c2.download_button(
        "Wide CSV template",
        (TEMPLATES / "metrics_wide_template.csv").read_bytes(),
        "metrics_wide_template.csv",
        "text/csv",
        key="metrics_tpl_wide",
    )
    target = st.session_state.get(SELECTED)
    st.caption(f"Rows without a patient_id go to the selected patient: {target or 'none selected (choose one above)'}")
    upload = st.file_uploader("Health data file", type=list(app.limits.import_extensions), key="metrics_upload")
    deps = app.metrics_job_deps()
    if upload is not None and st.button("Import", type="primary", key="metrics_import"):
        try:
            # The worker imports it (parsing an export takes seconds): the page only stores and queues the file.
            job = submit_import(deps, principal, target, upload.getvalue(), upload.name)
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            st.session_state[IMPORT_JOB] = job.job_id
    show_import(deps, st.session_state.get(IMPORT_JOB))

if "Cohort" in panes:
    with panes["Cohort"]:
        st.markdown("Patients with anomalies in the last 7 days, highest illness score first.")
        rows = recent_anomalies(app.stores, principal, days=7, tz=clinic_tz())
        if rows:
            st.dataframe(
                [{**r, "metrics": ", ".join(r["metrics"])} for r in rows],
                hide_index=True,
                width="stretch",
                column_config={"score": st.column_config.ProgressColumn("illness score", min_value=0.0, max_value=1.0)},
            )
        else:
            st.success("No patient has anomalies in the last 7 days.")
