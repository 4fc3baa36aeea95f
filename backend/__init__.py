"""Clinical Co-Pilot backend: plain Python, never imports streamlit."""

from backend.simd import cap_numpy

cap_numpy()  # before any backend module imports numpy: one arithmetic for Whisper's input on every x86 machine
