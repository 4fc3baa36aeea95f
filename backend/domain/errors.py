"""Domain errors: every expected failure a user can see has a type here.

Each carries a message written for the user: what went wrong and what to do.
Adapters translate SDK/driver errors into these (``raise ... from e``).
"""

from __future__ import annotations


class CopilotError(Exception):
    """Base class for errors that are shown to the user as-is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(CopilotError):
    """Input was rejected; nothing was stored."""


class NotFound(CopilotError):
    """The record does not exist (or the user may not know that it does)."""


class AlreadyExists(CopilotError):
    """A record with this key exists already; nothing was overwritten."""


class ConcurrentUpdate(CopilotError):
    """A versioned write lost against another writer."""

    def __init__(
        self, message: str = "This record was changed by someone else — reload it and apply your edit again."
    ) -> None:
        super().__init__(message)


class SignedNoteImmutable(ValidationFailed):
    """The stored note is signed: the store refuses to change it (an amendment is a new note)."""

    def __init__(self, message: str = "This note is signed and cannot be changed; start an amendment instead.") -> None:
        super().__init__(message)


class PermissionDenied(CopilotError):
    """The signed-in user's role does not allow this action."""


class AuthenticationFailed(CopilotError):
    """Wrong username or password, a disabled account, or a lock-out."""


class StoreUnavailable(CopilotError):
    """The record store, blob store or queue could not be reached (after retries)."""


class ProviderUnavailable(CopilotError):
    """A speech/OCR/LLM provider failed (timeout, quota, outage) after retries."""


class UnsupportedInput(ValidationFailed):
    """A file of the wrong type, corrupt, too large or too long."""
