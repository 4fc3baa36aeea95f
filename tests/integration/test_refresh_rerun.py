"""An automatic refresh that reruns the app never takes back a click that arrived while it ran (AppTest).

The click is put where Streamlit keeps it, a pending rerun request with its own query string (in the browser
it names the page clicked), while the refresh is running; the refresh then asks for its own rerun. A bare
``st.rerun`` would be folded into the click's request and, being newer, carry the refresh's page instead.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page(click_meanwhile: bool) -> None:
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    from ui.runtime import QUIET_RERUN, rerun_app_quietly

    runs = st.session_state.setdefault("runs", [])
    runs.append({"page": st.query_params.get("page", "scribe"), "quiet": st.session_state.pop(QUIET_RERUN, False)})
    if len(runs) == 1:
        if click_meanwhile:  # the nurse clicks another page while the refresh reads the job
            ctx = get_script_run_ctx()
            assert ctx is not None and ctx.script_requests is not None
            ctx.script_requests.request_rerun(
                RerunData(query_string="page=timeline", page_script_hash=ctx.page_script_hash)
            )
        rerun_app_quietly()


def test_a_click_during_the_refresh_wins_and_counts_as_the_users() -> None:
    at = AppTest.from_function(_page, kwargs={"click_meanwhile": True}).run(timeout=30)

    assert not at.exception
    assert at.session_state["runs"] == [{"page": "scribe", "quiet": False}, {"page": "timeline", "quiet": False}]


def test_without_a_click_the_refresh_reruns_once_quietly() -> None:
    at = AppTest.from_function(_page, kwargs={"click_meanwhile": False}).run(timeout=30)

    assert not at.exception
    assert at.session_state["runs"] == [{"page": "scribe", "quiet": False}, {"page": "scribe", "quiet": True}]
