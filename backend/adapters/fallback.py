"""Cloud engine first, offline engine when the cloud one is unavailable (quota, outage, timeout, bad key).

Each wrapper implements the same port as the engines it wraps. Only :class:`ProviderUnavailable` hands
over to the offline engine; any other error (a bug, bad input) surfaces unchanged. ``last_fallback`` holds
the banner text of the most recent hand-over in the process (``None`` after a call the cloud engine served),
and ``last_error`` the most recent cloud failure, for the providers page. A wrapper is shared by every
session and worker thread, so the caller that wants *its own* call's banner asks ``call_fallback()`` (and
``call_engine()``), which answer for the last call made on the calling thread. The drafter also writes the banner
into the note's provenance (``engine_fallback``) so it survives a worker in another process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment
from backend.domain.note_content import NoteContent
from backend.ports import Checkable, OcrEngine, OcrLine, Transcriber

log = logging.getLogger(__name__)
Drafter = Callable[[Sequence[Segment]], NoteContent]


def banner(kind: str, cloud: str, offline: str, reason: str) -> str:
    """The page banner for one hand-over."""
    return f"{kind} by the offline engine ({offline}) because {cloud} is unavailable: {reason}"


class _Fallback:
    """Shared bookkeeping: which engine served last and why the cloud one did not (the ``EngineStatus`` port)."""

    cloud: object

    def __init__(self, kind: str, cloud_name: str, offline_name: str) -> None:
        self._kind = kind
        self.name = cloud_name
        self.cloud_name = cloud_name
        self.offline_name = offline_name
        self.last_fallback: str | None = None
        self.last_error: str | None = None
        self.last_engine: str | None = None
        self._lock = threading.Lock()
        self._calls = threading.local()  # this thread's last call: its banner and engine

    def call_fallback(self) -> str | None:
        """The banner of the last call made on this thread (None: the cloud engine served it)."""
        return getattr(self._calls, "fallback", None)

    def call_engine(self) -> str | None:
        """The engine that served the last call made on this thread."""
        return getattr(self._calls, "engine", None)

    def check(self) -> str:
        """The cloud engine's connection test (the offline engine needs none)."""
        if isinstance(self.cloud, Checkable):
            return self.cloud.check()
        return f"{self.cloud_name} has no connection test."

    def _served_by_cloud(self) -> None:
        self._calls.fallback, self._calls.engine = None, self.cloud_name
        with self._lock:
            self.last_fallback, self.last_engine = None, self.cloud_name

    def _fell_back(self, error: ProviderUnavailable) -> str:
        message = banner(self._kind, self.cloud_name, self.offline_name, error.message)
        log.warning("%s", message)
        self._calls.fallback, self._calls.engine = message, self.offline_name
        with self._lock:
            self.last_fallback, self.last_error, self.last_engine = message, error.message, self.offline_name
        return message


class Unconfigured:
    """A cloud engine that could not be built (no key, no URL): every call hands over, with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self, segments: Sequence[Segment]) -> NoteContent:
        raise ProviderUnavailable(self.reason)

    def check(self) -> str:
        raise ProviderUnavailable(self.reason)


class FallbackDrafter(_Fallback):
    """``(segments) -> NoteContent``: an LLM engine, else the rule-based drafter."""

    cloud: Drafter

    def __init__(
        self, cloud: Drafter, offline: Drafter, cloud_name: str = "gemini", offline_name: str = "rules"
    ) -> None:
        super().__init__("Drafted", cloud_name, offline_name)
        self.cloud, self.offline = cloud, offline

    def __call__(self, segments: Sequence[Segment]) -> NoteContent:
        try:
            content = self.cloud(segments)
        except ProviderUnavailable as e:
            message = self._fell_back(e)
            offline = self.offline(segments)
            provenance = offline.provenance.model_copy(update={"engine": self.offline_name, "engine_fallback": message})
            return offline.model_copy(update={"provenance": provenance})
        self._served_by_cloud()
        return content


class FallbackTranscriber(_Fallback):
    """A ``Transcriber``: AWS Transcribe or Gemini, else the offline speech engine."""

    cloud: Transcriber

    def __init__(self, cloud: Transcriber, offline: Transcriber) -> None:
        super().__init__("Transcribed", cloud.name, offline.name)
        self.cloud, self.offline = cloud, offline

    @property
    def low_accuracy(self) -> bool:
        """True when the engine that served this thread's last call is a low-accuracy one."""
        engine = self.offline if self.call_engine() == self.offline_name else self.cloud
        return engine.low_accuracy

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        try:
            segments = self.cloud.transcribe(samples, language)
        except ProviderUnavailable as e:
            self._fell_back(e)
            return self.offline.transcribe(samples, language)
        self._served_by_cloud()
        return segments


class FallbackOcr(_Fallback):
    """An ``OcrEngine``: Textract, else the offline OCR engine."""

    cloud: OcrEngine

    def __init__(self, cloud: OcrEngine, offline: OcrEngine) -> None:
        super().__init__("Read", cloud.name, offline.name)
        self.cloud, self.offline = cloud, offline

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        try:
            lines = self.cloud.read_image(image_bytes, page)
        except ProviderUnavailable as e:
            self._fell_back(e)
            return self.offline.read_image(image_bytes, page)
        self._served_by_cloud()
        return lines
