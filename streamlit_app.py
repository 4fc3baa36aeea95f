"""Entry point: the web server (``st.App``) and the page script (page config, sign-in gate, navigation by role).

One file, two roles. ``streamlit run streamlit_app.py`` finds the ``st.App`` assignment below and serves it,
importing this file as a module: that adds the route that sets the HttpOnly session cookie and the guard that
refuses uploads before sign-in (``ui/session_http.py``). The server then runs this same file as the page script
of every browser tab, as ``__main__``, which is the ``main()`` branch. Pages live in pages/.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from backend.domain.engine_words import engine_detail, plain_engines
from backend.domain.errors import CopilotError
from backend.domain.models import Role
from backend.services.access import Permission
from backend.services.demo import is_demo_database
from ui.engine_status import sidebar_engine_notes
from ui.login import login_page
from ui.runtime import (
    bind_session_cookie,
    current_principal,
    get_app,
    init_session,
    sign_out,
    switch_page_keeping_quiet,
)

BY_ROLE: dict[Role, list[str]] = {
    Role.NURSE: ["patients", "scribe", "digitize", "timeline", "metrics"],
    Role.DOCTOR: ["dashboard", "patients", "scribe", "digitize", "timeline", "metrics", "ask", "admin"],
    Role.ADMIN: ["admin"],
}


def _pages() -> dict[str, st.Page]:
    return {
        "dashboard": st.Page("pages/dashboard.py", title="Dashboard", icon=":material/home:", url_path="dashboard"),
        "patients": st.Page("pages/patients.py", title="Patients", icon=":material/groups:", url_path="patients"),
        "scribe": st.Page("pages/scribe.py", title="Scribe", icon=":material/mic:", url_path="scribe"),
        "digitize": st.Page(
            "pages/digitize.py", title="Digitize", icon=":material/document_scanner:", url_path="digitize"
        ),
        "timeline": st.Page("pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
        "metrics": st.Page(
            "pages/health_metrics.py",
            title="Health metrics",
            icon=":material/monitor_heart:",
            url_path="health-metrics",
        ),
        "ask": st.Page("pages/ask.py", title="Ask", icon=":material/forum:", url_path="ask"),
        "admin": st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"),
    }


def _sign_in_pages(pages: dict[str, st.Page]) -> list[st.Page]:
    # Signed out, every page's address shows the sign-in page (not "Page not found"); after sign-in the same
    # address, with its query parameters, opens the page itself (a page is known by its URL path).
    icon = ":material/login:"
    return [st.Page(login_page, title="Sign in", icon=icon, default=True)] + [
        st.Page(login_page, title="Sign in", icon=icon, url_path=p.url_path) for p in pages.values()
    ]


def main() -> None:
    # An emoji favicon needs no network (a material-icon favicon is fetched from a font CDN).
    st.set_page_config(page_title="Clinical Co-Pilot", page_icon="🩺", layout="wide")
    init_session()
    try:
        app = get_app()
    except CopilotError as e:  # e.g. the data key is missing or wrong: say what to do, open nothing
        st.error(e.message)
        st.stop()
    principal = current_principal()
    pages = _pages()

    if principal is None:
        st.navigation(_sign_in_pages(pages), position="hidden").run()
        st.stop()

    with st.sidebar:
        st.markdown(f"Signed in as **{principal.username}** · {principal.role.value}")
        if st.button("Sign out", key="nav_sign_out"):
            sign_out("You have signed out.")
            st.rerun()
        if "demo_database" not in st.session_state:  # asked once per session
            st.session_state["demo_database"] = is_demo_database(app.stores)
        if st.session_state["demo_database"]:
            st.caption("Demo database: synthetic data only; the demo accounts have published passwords.")
        # Where the work happens, in words; the provider names are for whoever manages the engines.
        st.caption("  \n".join(plain_engines(app.providers)))
        sidebar_engine_notes(app)  # an offline engine standing in for the configured one, on every page
        if principal.can(Permission.MANAGE_PROVIDERS):
            with st.expander("Engine details"):
                st.caption(engine_detail(app.providers) + " — tests and errors: Admin, Engines tab.")
        bind_session_cookie()

    st.navigation(role_pages(pages, principal.role)).run()


def role_pages(pages: dict[str, st.Page], role: Role) -> list[st.Page]:
    """The role's pages, each at its own address, behind a hidden start page at "/" that opens the first one.

    Streamlit serves its default page at "/" only: were the role's first page the default, its own address
    (``/dashboard`` typed or bookmarked) would show "Page not found" before opening it. The start page is not
    any page's file, so a link by file path (``st.switch_page("pages/dashboard.py")``) still finds one page.
    """
    own = [pages[name] for name in BY_ROLE[role]]

    def start() -> None:
        switch_page_keeping_quiet(own[0], st.query_params.to_dict())  # "/?patient=..." keeps the patient

    return [st.Page(start, title=own[0].title, url_path="start", default=True, visibility="hidden"), *own]


if __name__ == "__main__":
    main()
else:
    # Imported by the web server. The assignment must read `app = st.App(...)`: `streamlit run` finds it so.
    from starlette.middleware import Middleware
    from streamlit.runtime.pages_manager import PagesManager

    from ui.session_http import UploadGuard, session_routes

    # This app names its pages with st.navigation. Streamlit otherwise decides from the mere presence of a
    # pages/ folder, until the first st.navigation call, that the process serves a legacy multipage app: a
    # first visitor arriving on a page's address (a bookmark, a reload after a restart) would run that page's
    # file directly, without the sign-in gate.
    PagesManager.uses_pages_directory = False

    app = st.App(
        Path(__file__).resolve(),
        routes=session_routes(str(st.get_option("server.baseUrlPath") or "")),
        middleware=[Middleware(UploadGuard)],
    )
