"""Plotly figures built by plain functions (no Streamlit)."""
