"""The doctor's dashboard — placeholder until its capability lands."""

from __future__ import annotations

import streamlit as st

from ui.runtime import require_principal
from ui.widgets import not_built

require_principal()
st.title("Dashboard")
not_built("The doctor's dashboard")
