"""Which engine is live behind each port, its last error, and a connection test per provider (admin page).

Engines are registered by bootstrap as they are built. A cloud engine wrapped in a fallback
(``backend.adapters.fallback``) reports whether the cloud engine served the last call, the last cloud
error, and the banner of the last hand-over (the ``EngineStatus`` port). A connection test calls the engine's
``check()`` (the ``Checkable`` port) — a cheap authenticated request that sends no patient data — and never
raises for provider problems.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from backend.domain.errors import CopilotError, ValidationFailed
from backend.ports import Checkable, EngineStatus, Named, RecordStore
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


def _status(engine: object) -> tuple[str | None, str | None, str | None]:
    """``(engine that served last, last error, last fallback banner)`` of a cloud-first engine, else Nones."""
    if isinstance(engine, EngineStatus):
        return engine.last_engine, engine.last_error, engine.last_fallback
    return None, None, None


def _name(engine: object, default: str) -> str:
    return engine.name if isinstance(engine, Named) else default


class ProviderRegistry:
    """The engines built so far, by port. Thread-safe; shared by every session of the process."""

    def __init__(self) -> None:
        self._engines: dict[str, tuple[str, object]] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, port: str, configured: str, engine: object) -> None:
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
            served_by, engine_error, fallback = _status(engine)
            last_error = engine_error or errors.get(port)
            name = served_by or _name(engine, chosen)
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
        if not isinstance(engine, Checkable):
            return True, f"{_name(engine, configured)} runs on this machine; no connection needed."
        try:
            message = str(engine.check())
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
