"""Errors of health-data imports (shown to the user as-is)."""

from __future__ import annotations

from backend.domain.errors import CopilotError


class CredentialsRejected(CopilotError):
    """A data provider refused our credentials (wrong or expired token, or no data-sharing consent)."""
