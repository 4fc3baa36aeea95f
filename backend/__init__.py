"""Clinical Co-Pilot backend: plain Python, never imports streamlit."""
