"""Errors of encryption at rest, each with a message that says what to do (shown to the user as-is)."""

from __future__ import annotations

from backend.domain.errors import StoreUnavailable


class DataKeyError(StoreUnavailable):
    """The data key is missing, malformed or not the one the data folder was encrypted with; nothing was opened."""


class TamperedFile(StoreUnavailable):
    """A stored file failed authentication: it was changed, truncated, swapped or damaged on disk."""
