"""The sidebar says where the work happens in words a nurse reads; the provider names are for the administrator.

AppTest over the real app on the offline engines (what ``make run`` starts), signed in as a nurse and an admin.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import Role
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.helpers.apptest import TIMEOUT_S, app_fixture

app = app_fixture("sidebar-engines", users={"nurse": Role.NURSE, "admin": Role.ADMIN})

IN_WORDS = (
    "Speech: on this computer (Whisper)  \n"
    "Reading documents: on this computer  \n"
    "Drafting notes: on this computer (rules)  \n"
    "Records and files: this computer"
)
DETAIL = "store sqlite · blobs local · queue sqlite · stt whisper · ocr rapidocr · llm offline"


def _signed_in(principal: Principal) -> AppTest:
    # The entry script itself (not a switched-to page file), since it is what draws the sidebar.
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.session_state["auth_principal"] = principal
    at.run()
    assert not at.exception, at.exception
    return at


def _sidebar_text(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def test_a_nurse_reads_where_the_work_happens_without_engine_names(app: App) -> None:
    at = _signed_in(Principal("nurse", Role.NURSE))
    shown = _sidebar_text(at)
    assert IN_WORDS in shown
    assert not any("sqlite" in text or "rapidocr" in text or "stt " in text for text in shown)
    assert not at.sidebar.expander  # no engine details for a nurse


def test_an_admin_also_has_the_engine_names_behind_an_expander(app: App) -> None:
    at = _signed_in(Principal("admin", Role.ADMIN))
    assert IN_WORDS in _sidebar_text(at)
    (details,) = at.sidebar.expander
    assert details.label == "Engine details"
    assert [c.value for c in details.caption] == [f"{DETAIL} — tests and errors: Admin, Engines tab."]
