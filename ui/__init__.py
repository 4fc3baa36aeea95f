"""Streamlit-side helpers shared by the pages: app access, session, safe rendering. No business rules."""
