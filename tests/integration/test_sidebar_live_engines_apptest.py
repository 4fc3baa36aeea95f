"""When the offline engine stood in for the configured cloud one at its last call, the sidebar says what ran and
why (AppTest over the real app, whose entry script draws the sidebar of every page; the cloud engine is an honest fake that is unavailable)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from streamlit.testing.v1 import AppTest

from backend.adapters.fallback import FallbackTranscriber
from backend.bootstrap import App
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Role, Segment
from backend.services.access import Principal
from tests.conftest import ROOT
from tests.helpers.apptest import TIMEOUT_S, app_fixture
from ui.runtime import get_app
from ui.safe import md_escape

app = app_fixture("sidebar-live-engines", users={"nurse": Role.NURSE})
NURSE = Principal("nurse", Role.NURSE)


class OutOfQuota:
    """A cloud speech engine whose every call is refused, as AWS Transcribe is when the account's quota is spent."""

    name = "aws-transcribe"
    low_accuracy = False

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        raise ProviderUnavailable("quota exceeded")


class Offline:
    name = "whisper-faster-whisper-base"
    low_accuracy = False

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        return [Segment(id=0, start=0.0, end=1.0, text="Hello.")]


def sidebar_lines(principal: Principal) -> str:
    """The sidebar's captions as the entry script draws them (on every page; AppTest's switch_page would run the page
    file alone, without the entry script's sidebar)."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.session_state["auth_principal"] = principal
    at.run()
    assert not at.exception, at.exception
    return " ".join(c.value for c in at.sidebar.caption)


def test_the_sidebar_names_the_stand_in_engine_and_why_only_while_one_stands_in(app: App) -> None:
    assert "now:" not in sidebar_lines(NURSE)  # the configured engines serve
    speech = FallbackTranscriber(OutOfQuota(), Offline())
    speech.transcribe(np.zeros(16_000, dtype=np.float32))
    get_app().registry.register("stt", "transcribe", speech)  # the app the pages run on (one per process)
    shown = sidebar_lines(NURSE)
    said = (
        "Speech now: on this computer (Whisper base), because Amazon Transcribe (AWS) was unavailable at the last try"
    )
    assert md_escape(f"{said}: quota exceeded") in shown
