"""Entry point: page config, sign-in gate, navigation by role. Pages live in pages/."""

from __future__ import annotations

import streamlit as st

from backend.domain.models import Role
from backend.services.demo import is_demo_database
from ui.login import login_page
from ui.runtime import current_principal, get_app, init_session, sign_out

# An emoji favicon needs no network (a material-icon favicon is fetched from a font CDN).
st.set_page_config(page_title="Clinical Co-Pilot", page_icon="🩺", layout="wide")
init_session()
app = get_app()
principal = current_principal()

if principal is None:
    st.navigation([st.Page(login_page, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()

P = {
    "dashboard": st.Page("pages/dashboard.py", title="Dashboard", icon=":material/home:", url_path="dashboard"),
    "patients": st.Page("pages/patients.py", title="Patients", icon=":material/groups:", url_path="patients"),
    "scribe": st.Page("pages/scribe.py", title="Scribe", icon=":material/mic:", url_path="scribe"),
    "digitize": st.Page("pages/digitize.py", title="Digitize", icon=":material/document_scanner:", url_path="digitize"),
    "timeline": st.Page("pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
    "metrics": st.Page(
        "pages/health_metrics.py", title="Health metrics", icon=":material/monitor_heart:", url_path="health-metrics"
    ),
    "ask": st.Page("pages/ask.py", title="Ask", icon=":material/forum:", url_path="ask"),
    "admin": st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"),
}
BY_ROLE: dict[Role, list[str]] = {
    Role.NURSE: ["patients", "scribe", "digitize", "timeline", "metrics"],
    Role.DOCTOR: ["dashboard", "patients", "scribe", "digitize", "timeline", "metrics", "ask", "admin"],
    Role.ADMIN: ["admin"],
}

with st.sidebar:
    st.markdown(f"Signed in as **{principal.username}** · {principal.role.value}")
    if st.button("Sign out", key="nav_sign_out"):
        sign_out("You have signed out.")
        st.rerun()
    if "demo_database" not in st.session_state:  # asked once per session
        st.session_state["demo_database"] = is_demo_database(app.stores)
    if st.session_state["demo_database"]:
        st.caption("Demo database: synthetic data only; the demo accounts have published passwords.")
    st.caption("Engines: " + " · ".join(f"{k} {v}" for k, v in app.providers.items()))

st.navigation([P[name] for name in BY_ROLE[principal.role]]).run()
