"""The doctor's home: drafts waiting for signature, patients with recent anomalies, recent activity — refreshed live."""

from __future__ import annotations

import streamlit as st

from backend.domain.anomaly.rules import load_rules
from backend.domain.models import now_ms
from backend.services.cohort import recent_anomalies
from backend.services.timeline import changed_since, dashboard_summary
from ui.audit_words import action_words
from ui.clock import clinic_tz, clock_text, when, zone_name
from ui.runtime import get_app, require_principal, rerun_app_quietly, session_ended_in_fragment
from ui.safe import md_escape
from ui.widgets import SELECTED

DAY_MS = 86_400_000
app, principal = get_app(), require_principal()
st.title("Dashboard")
st.session_state.setdefault("dashboard_checked", now_ms())


@st.fragment(run_every=5.0)
def watch_for_changes() -> None:
    """Cheap poll: only notes changed since the last look; a full refresh only when something changed.

    The poll is not a user action: it checks the session (disabled account, new password, idle) without
    extending it, so an unattended dashboard signs out like any other page.
    """
    if session_ended_in_fragment():
        return
    since = st.session_state["dashboard_checked"]
    fresh = changed_since(app.stores, principal, since)
    st.session_state["dashboard_checked"] = now_ms()
    st.caption(f"Live: checked at {clock_text(st.session_state['dashboard_checked'])}")
    if fresh:
        rerun_app_quietly()


watch_for_changes()
summary = dashboard_summary(app.stores, principal, since_ms=now_ms() - 7 * DAY_MS)

left, right = st.columns(2)
with left:
    st.subheader(f"Drafts waiting for signature ({len(summary.drafts)})")
    if not summary.drafts:
        st.caption("Nothing to sign: a draft saved from the Scribe page waits here for a doctor.")
    for d in summary.drafts[:20]:
        c1, c2 = st.columns([4, 1])
        c1.markdown(
            f"**{md_escape(d.patient_name)}** · {when(d.timestamp)} · by {md_escape(d.author)}  \n{md_escape(d.headline or 'chief complaint not recorded')}"
        )
        if c2.button("Review", key=f"dash_review_{d.patient_id}_{d.timestamp}"):
            st.session_state[SELECTED] = d.patient_id
            st.session_state["scribe_note_choice"] = d.timestamp
            st.switch_page("pages/scribe.py")
with right:
    st.subheader("Patients with anomalies (7 days)")
    rows = recent_anomalies(app.stores, principal, days=7, tz=clinic_tz())
    if not rows:
        st.caption("No anomalies in the last 7 days.")
    else:
        st.caption(
            "Illness score: 0 (usual) to 1 (far off) — resting HR up, HRV down and temperature up against the "
            "patient's own baseline, as charted on Health metrics (alert at 0.5). Open a patient to see why."
        )
    rules = load_rules().metrics
    for r in rows[:10]:
        c1, c2 = st.columns([4, 1])
        # The signals as the charts name them ("Resting HR", not the stored key "resting_hr").
        signals = ", ".join(rules[m].display if m in rules else m for m in r["metrics"])
        c1.markdown(f"**{md_escape(r['name'])}** · illness score {r['score']:.2f} · {md_escape(signals)}")
        if c2.button("Open", key=f"dash_metrics_{r['patient_id']}"):
            st.session_state[SELECTED] = r["patient_id"]
            st.switch_page("pages/health_metrics.py")

if summary.recent_activity:
    # The audit trail's latest lines: useful to see who did what, but not the reason to open the dashboard.
    with st.expander(f"Recent activity in the clinic · last {len(summary.recent_activity)} audit lines"):
        st.dataframe(
            [
                {
                    f"when ({zone_name(now_ms())})": when(e.at, zone=False),
                    "user": e.actor,
                    "what": action_words(e.action),
                    "patient ID": e.patient_id or "",
                }
                for e in summary.recent_activity
            ],
            hide_index=True,
            width="stretch",
        )
