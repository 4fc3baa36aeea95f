"""The engines' live status in the sidebar: which part of the app is, right now, done by another engine than the
one configured (a cloud engine unavailable at its last call, or Whisper's model missing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from backend.domain.engine_words import engine_words, live_instead
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App

SPEECH_MODEL_MISSING = "Speech now: on this computer by {engine}: the Whisper model could not be loaded (see Scribe)"


def live_engine_notes(app: App) -> list[str]:
    """One line per part now served by a stand-in engine; empty while every configured engine serves."""
    notes = [line for row in app.registry.status(app.providers) if (line := live_instead(row.port, row.fallback))]
    if app.speech_warning() and not any(n.startswith("Speech") for n in notes):
        notes.append(SPEECH_MODEL_MISSING.format(engine=engine_words("pocketsphinx")))
    return notes


def sidebar_engine_notes(app: App) -> None:
    """The live notes under the sidebar's configured engines (nothing when all is as configured)."""
    notes = live_engine_notes(app)
    if notes:
        with st.sidebar:
            st.caption("  \n".join(f":orange[:material/swap_horiz: {md_escape(n)}]" for n in notes))
