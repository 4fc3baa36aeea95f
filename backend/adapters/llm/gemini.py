"""A thin, safe wrapper over the ``google-genai`` SDK (``from google import genai``).

What it adds to the SDK:

- the shared retry policy (``backend.adapters.llm.retries``) on 408/429/5xx and on transport errors
  (timeouts, refused connections), honouring the server's ``RetryInfo.retryDelay`` on 429; the SDK's own
  retries are left off so there is one retry policy to reason about;
- a timeout on every request (``HttpOptions.timeout`` is in milliseconds);
- every failure that should hand over to the offline engine becomes :class:`ProviderUnavailable`;
- structured replies go through the shared checks (``backend.adapters.llm.replies``): re-validated from
  ``response.text`` with pydantic, ``MAX_TOKENS`` refused, ``json-repair`` only on complete replies;
- the API key never appears in logs, reprs or error messages.
"""

from __future__ import annotations

import functools
import io
import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types
from pydantic import SecretStr

from backend.adapters.llm.client import StructuredLlm
from backend.adapters.llm.endpoints import check_base_url
from backend.adapters.llm.replies import Finish, Prompt, Reply
from backend.adapters.llm.retries import Failure, RetryPolicy
from backend.domain.errors import ProviderUnavailable

log = logging.getLogger(__name__)
DEFAULT_MODEL = "gemini-2.5-flash"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GeminiClient(StructuredLlm):
    """One configured model behind the Gemini API.

    Args:
        api_key: the Gemini API key (kept as a ``SecretStr``; only handed to the SDK).
        model: model name, e.g. ``gemini-2.5-flash``.
        base_url: another endpoint (tests point this at a local server; proxies).
        timeout_s: per-request timeout in seconds.
        retry: the retry policy for 408/429/5xx and transport errors.
        max_output_tokens: default cap of the reply length.
        client: an already built ``genai.Client`` (then ``api_key``/``base_url``/``timeout_s`` are unused).
        sleep, rand: injectable for tests (no real waiting).
    """

    def __init__(
        self,
        api_key: SecretStr | str | None,
        model: str = DEFAULT_MODEL,
        *,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        max_output_tokens: int = 16384,  # thinking models spend part of it before answering
        client: genai.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        secret = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key or "")
        if client is None and not secret.get_secret_value():
            raise ProviderUnavailable(
                "No Gemini API key is configured — set COPILOT_GEMINI_API_KEY or use the offline engines."
            )
        if client is None and base_url:
            check_base_url(base_url, "COPILOT_GEMINI_BASE_URL")
        self._secret = secret
        self.model = model
        self.retry = retry
        self.max_output_tokens = max_output_tokens
        self._sleep = sleep
        self._rand = rand
        self._client = client or genai.Client(
            api_key=secret.get_secret_value(),
            http_options=types.HttpOptions(base_url=base_url, timeout=int(timeout_s * 1000)),
        )

    engine_label = "Gemini"

    def __repr__(self) -> str:
        return f"GeminiClient(model={self.model!r})"

    @property
    def name(self) -> str:
        return f"gemini:{self.model}"

    def _scrub(self, text: str) -> str:
        key = self._secret.get_secret_value()
        return text.replace(key, "***") if key else text

    def _server_delay(self, error: errors.APIError) -> float | None:
        """``RetryInfo.retryDelay`` ("12s") of a 429 reply, if the server sent one."""
        details = error.details.get("error", {}).get("details", []) if isinstance(error.details, dict) else []
        for d in details if isinstance(details, list) else []:
            if isinstance(d, dict) and str(d.get("@type", "")).endswith("RetryInfo"):
                match = _RETRY_DELAY.match(str(d.get("retryDelay", "")))
                if match:
                    return min(float(match.group(1)), self.retry.max_delay)
        return None

    def call(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run one SDK call with the retry policy; failures become ProviderUnavailable naming ``what``."""

        def classify(error: BaseException) -> Failure | None:
            if isinstance(error, errors.APIError):
                delay = self._server_delay(error) if error.code == 429 else None
                message = self._explain(what, error.code, error.status or "", error.message or "")
                return Failure(message, retry=error.code in RETRY_STATUS, delay_s=delay)
            if isinstance(error, httpx2.TransportError):
                kind = "timed out" if isinstance(error, httpx2.TimeoutException) else "could not be reached"
                return Failure(f"Gemini {kind} ({what}) after {self.retry.attempts} attempts.", retry=True)
            return None

        return self._retrying(what, fn, classify)

    def _explain(self, what: str, code: int, status: str, message: str) -> str:
        detail = self._scrub(message)[:200]
        if code == 429:
            return (
                f"Gemini quota exceeded or rate-limited ({what}; 429 {status}). The offline engine is used meanwhile."
            )
        if code >= 500 or code == 408:
            return f"Gemini is unavailable ({what}; {code} {status}). The offline engine is used meanwhile."
        if code in (401, 403):
            return f"Gemini refused the API key ({code} {status}): check COPILOT_GEMINI_API_KEY. {detail}".strip()
        if code == 404:
            return f"Gemini model {self.model!r} was not found (404): check COPILOT_GEMINI_MODEL."
        return f"Gemini rejected the request ({what}; {code} {status}): {detail}".strip()

    def complete(self, prompt: Prompt) -> Reply:
        """One ``generate_content`` call; the first candidate's text and its stop reason.

        Raises:
            ProviderUnavailable: after retries, or when the reply has no candidate (blocked prompt).
        """
        what, schema = prompt.what, prompt.schema
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            temperature=0.0,
            max_output_tokens=prompt.max_output_tokens or self.max_output_tokens,
            response_mime_type="application/json" if schema is not None else None,
            response_schema=schema,
        )
        response = self.call(
            what,
            lambda: self._client.models.generate_content(model=self.model, contents=prompt.contents, config=config),
        )
        if not response.candidates:
            feedback = getattr(response, "prompt_feedback", None)
            reason = getattr(feedback, "block_reason", None) if feedback else None
            raise ProviderUnavailable(f"Gemini returned no answer ({what}; blocked: {reason or 'unknown reason'}).")
        candidate = response.candidates[0]
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        finish = candidate.finish_reason
        return Reply(text=text, finish=_finish(finish), reason=f"finish reason {finish.value}" if finish else "")

    def upload(self, data: bytes, mime_type: str, *, wait_s: float = 120.0) -> types.File:
        """Upload through the Files API and wait until the file is ACTIVE (audio is processed server-side)."""
        file = self.call(
            "file upload",
            lambda: self._client.files.upload(
                file=io.BytesIO(data), config=types.UploadFileConfig(mime_type=mime_type)
            ),
        )
        deadline = time.monotonic() + wait_s
        delay = 1.0
        while file.state == types.FileState.PROCESSING:
            if time.monotonic() > deadline:
                self.delete_file(file.name)
                raise ProviderUnavailable("Gemini took too long to process the uploaded audio.")
            self._sleep(delay)
            delay = min(delay * 2, 10.0)
            file = self.call("file status", functools.partial(self._client.files.get, name=str(file.name)))
        if file.state == types.FileState.FAILED:
            self.delete_file(file.name)
            raise ProviderUnavailable("Gemini could not process the uploaded audio (file state FAILED).")
        return file

    def delete_file(self, name: str | None) -> None:
        """Delete an uploaded file now rather than after the API's 48-hour expiry (it holds patient audio)."""
        if not name:
            return
        try:
            self.call("file delete", lambda: self._client.files.delete(name=name))
        except ProviderUnavailable as e:
            log.warning("could not delete uploaded file %s: %s", name, e.message)

    def check(self) -> str:
        """A cheap authenticated call (model metadata) for the providers page; raises ProviderUnavailable."""
        info = self.call("connection test", lambda: self._client.models.get(model=self.model))
        return f"Gemini reachable; model {getattr(info, 'name', None) or self.model} available."


def _finish(reason: types.FinishReason | None) -> Finish:
    if reason in (None, types.FinishReason.STOP, types.FinishReason.FINISH_REASON_UNSPECIFIED):
        return "stop"
    return "length" if reason == types.FinishReason.MAX_TOKENS else "other"
