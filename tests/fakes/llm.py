"""An LLM client whose replies the test scripts: complete, cut off, filtered, throttled, down.

It is a real ``StructuredLlm`` (the base every engine shares), so a scripted reply goes through the same
acceptance as a model's (truncated and filtered replies refused, JSON validated, repaired once) and the same
retries with backoff; only the wire is missing. It runs the shared LLM engine checks with Gemini, Bedrock and
the OpenAI-compatible client (``tests/integration/test_llm_engines_shared.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.adapters.llm import RetryPolicy, StructuredLlm
from backend.adapters.llm.replies import Prompt, Reply
from backend.adapters.llm.retries import Failure
from backend.domain.errors import ProviderUnavailable

LABEL = "The scripted model"


class Throttled(Exception):
    """The model's server refused for rate limits and asked to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("429 too many requests")
        self.retry_after = retry_after


class Down(Exception):
    """The model's server answered 503 (or nothing at all)."""


def _classify(error: BaseException) -> Failure | None:
    if isinstance(error, Throttled):
        return Failure(f"{LABEL} is throttling requests.", retry=True, delay_s=error.retry_after)
    if isinstance(error, Down):
        return Failure(f"{LABEL} is unavailable (HTTP 503).", retry=True)
    return None


class ScriptedLlm(StructuredLlm):
    """Args: script: replies and errors, answered in order (shared with the test); requests: what was asked."""

    engine_label = LABEL

    def __init__(
        self,
        script: list[Reply | Exception] | None = None,
        *,
        requests: list[dict[str, Any]] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        model: str = "scripted-1",
    ) -> None:
        self.script = script if script is not None else []
        self.requests = requests if requests is not None else []
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or (lambda _s: None)  # never wait in tests
        self._model = model

    @property
    def name(self) -> str:
        return f"fake:{self._model}"

    def complete(self, prompt: Prompt) -> Reply:
        request = {"what": prompt.what, "contents": prompt.contents, "system": prompt.system, "schema": prompt.schema}
        return self._retrying(prompt.what, lambda: self._answer(request), _classify)

    def check(self) -> str:
        if self.script and isinstance(self.script[0], Down):
            raise ProviderUnavailable(f"{LABEL} is unavailable (HTTP 503).")
        return f"{LABEL} answers ({self._model})."

    def _answer(self, request: dict[str, Any]) -> Reply:
        self.requests.append(request)
        if not self.script:
            raise Down("no reply scripted")  # a server with nothing to say is a server that is down
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item
