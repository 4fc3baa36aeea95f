"""The doctor's home: drafts waiting for signature, patients with recent anomalies, recent activity — refreshed live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from backend.domain.anomaly.rules import load_rules
from backend.domain.models import now_ms
from backend.services.cohort import recent_anomalies
from backend.services.timeline import DashboardSummary, changed_since, dashboard_summary
from ui.audit_words import action_words
from ui.clock import clinic_tz, clock_text, when, zone_name
from ui.runtime import get_app, require_principal, session_ended_in_fragment
from ui.safe import md_escape
from ui.widgets import SELECTED

DAY_MS = 86_400_000
CHECKED = "dashboard_checked"  # when the poll last looked for changed notes (ms)
VIEW = "dashboard_view"  # what the dashboard shows, read again when a note changed
app, principal = get_app(), require_principal()
st.title("Dashboard")
st.session_state.setdefault(CHECKED, now_ms())
st.session_state.pop(VIEW, None)  # a full run (the doctor opened the page, or acted on it) reads everything again


@dataclass(frozen=True)
class _View:
    summary: DashboardSummary
    anomalies: list[dict[str, Any]]


def _read_view() -> _View:
    return _View(
        summary=dashboard_summary(app.stores, principal, since_ms=now_ms() - 7 * DAY_MS),
        anomalies=recent_anomalies(app.stores, principal, days=7, tz=clinic_tz()),
    )


@st.fragment(run_every=5.0)
def live_dashboard() -> None:
    """The page redraws in place every 5 s; it reads the lists again only when a note changed since the last look.

    It never reruns the whole app: a rerun started by this timer carries this page, and one that lands in the
    same instant as the doctor's click on another page would take them back here. The poll is not a user
    action: it checks the session (disabled account, new password, idle) without extending it, so an
    unattended dashboard signs out like any other page.
    """
    if session_ended_in_fragment():
        return
    fresh = changed_since(app.stores, principal, st.session_state[CHECKED])
    st.session_state[CHECKED] = now_ms()
    view: _View | None = st.session_state.get(VIEW)
    if view is None or fresh:
        view = _read_view()
        st.session_state[VIEW] = view
    st.caption(f"Live: checked at {clock_text(st.session_state[CHECKED])}")
    _draw(view)


def _draw(view: _View) -> None:
    summary = view.summary
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
        rows = view.anomalies
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


live_dashboard()
