"""Which engine is live behind each port, its last error, and a connection test per provider (admin page).

Engines are registered by bootstrap as they are built. A cloud engine wrapped in a fallback
(``backend.adapters.fallback``) reports whether the cloud engine served the last call, the last cloud
error, and the banner of the last hand-over. A connection test calls the engine's ``check()`` — a cheap
authenticated request that sends no patient data — and never raises for provider problems.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from backend.domain.errors import CopilotError, ValidationFailed
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require

PORTS = ("stt", "ocr", "llm")
PORT_LABELS = {"stt": "Speech to text", "ocr": "Document reading (OCR)", "llm": "Note drafting / extraction"}
CLOUD = frozenset({"transcribe", "textract", "gemini", "bedrock", "openai"})


@dataclass(frozen=True)
class ProviderStatus:
    port: str
    label: str
    configured: str  # the provider chosen by settings: whisper | transcribe | gemini | bedrock | openai | rapidocr | textract | offline
    engine: str  # the engine that served the last call (or the configured one before any call)
    cloud: bool
    live: bool  # False while the offline engine is standing in for the configured cloud engine
    last_error: str | None = None
    fallback: str | None = None  # banner text of the last hand-over to the offline engine


def _cloud_part(engine: Any) -> Any:
    """The cloud engine inside a fallback wrapper (or the engine itself)."""
    return getattr(engine, "cloud", engine)


def _checker(engine: Any) -> Any:
    part = _cloud_part(engine)
    for candidate in (part, getattr(part, "client", None)):
        if candidate is not None and callable(getattr(candidate, "check", None)):
            return candidate.check
    return None


class ProviderRegistry:
    """The engines built so far, by port. Thread-safe; shared by every session of the process."""

    def __init__(self) -> None:
        self._engines: dict[str, tuple[str, Any]] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, port: str, configured: str, engine: Any) -> None:
        """Record the engine serving ``port`` (called by bootstrap when it builds one)."""
        with self._lock:
            self._engines[port] = (configured, engine)

    def note_error(self, port: str, message: str) -> None:
        """Record a failure to build the engine itself (e.g. bad credentials at start-up)."""
        with self._lock:
            self._errors[port] = message

    def status(self, configured: dict[str, str] | None = None) -> list[ProviderStatus]:
        """One row per port; ``configured`` (port -> provider) fills ports whose engine is not built yet."""
        with self._lock:
            engines, errors = dict(self._engines), dict(self._errors)
        rows = []
        for port in PORTS:
            chosen, engine = engines.get(port, ((configured or {}).get(port, "not built yet"), None))
            fallback = getattr(engine, "last_fallback", None)
            last_error = getattr(engine, "last_error", None) or errors.get(port)
            name = getattr(engine, "last_engine", None) or getattr(engine, "name", None) or chosen
            rows.append(
                ProviderStatus(
                    port=port,
                    label=PORT_LABELS[port],
                    configured=chosen,
                    engine=str(name),
                    cloud=chosen in CLOUD,
                    live=engine is not None and fallback is None and port not in errors,
                    last_error=last_error,
                    fallback=fallback,
                )
            )
        return rows

    def test_connection(self, port: str) -> tuple[bool, str]:
        """``(ok, message)`` for the engine of ``port``; offline engines need no connection."""
        if port not in PORTS:
            raise ValidationFailed(f"Unknown port {port!r}; choose one of {', '.join(PORTS)}.")
        with self._lock:
            configured, engine = self._engines.get(port, ("", None))
        if engine is None:
            return False, "This engine has not been started yet — use the page that needs it once, then test again."
        check = _checker(engine)
        if check is None:
            return True, f"{getattr(engine, 'name', configured)} runs on this machine; no connection needed."
        try:
            message = str(check())
        except CopilotError as e:
            with self._lock:
                self._errors[port] = e.message
            return False, e.message
        with self._lock:
            self._errors.pop(port, None)
        return True, message


def provider_statuses(
    principal: Principal, registry: ProviderRegistry, configured: dict[str, str]
) -> list[ProviderStatus]:
    """The providers page's table (admins only)."""
    require(principal, Permission.MANAGE_PROVIDERS)
    return registry.status(configured)


def test_provider(principal: Principal, registry: ProviderRegistry, stores: RecordStore, port: str) -> tuple[bool, str]:
    """The providers page's "test connection" button (admins only); the attempt is audited."""
    require(principal, Permission.MANAGE_PROVIDERS)
    ok, message = registry.test_connection(port)
    record(stores.audit, principal, "provider.test", None, f"{port} ok={ok}")
    return ok, message
