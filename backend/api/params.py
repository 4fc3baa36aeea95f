"""Path and query parameters shared by several routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Epoch milliseconds: a note's or a history entry's key. Bounded, so a huge number is a 422, not a store error.
MAX_MS = 2**53 - 1
Timestamp = Annotated[int, Path(ge=0, le=MAX_MS, description="The record's timestamp (epoch ms), from its listing")]
PatientId = Annotated[
    str,
    Path(max_length=40, description="PAT_ and 8 hex digits, as registration returned it", examples=["PAT_de000001"]),
]
