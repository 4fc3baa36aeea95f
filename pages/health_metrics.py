"""Health metrics — placeholder until its capability lands."""

from __future__ import annotations

import streamlit as st

from ui.runtime import require_principal
from ui.widgets import not_built

require_principal()
st.title("Health metrics")
not_built("Health metrics")
