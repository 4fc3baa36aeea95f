"""Any server speaking the OpenAI chat-completions format, over plain HTTP.

That covers a clinic's own model server (Ollama, vLLM, llama.cpp's ``llama-server``: nothing leaves the
building), Azure OpenAI and OpenAI itself. Two URL forms:

- standard: ``POST {base_url}/chat/completions`` with ``Authorization: Bearer <key>`` (the key is optional
  for a local server);
- Azure OpenAI (when ``api_version`` is set): ``POST {base_url}/openai/deployments/{model}/chat/completions
  ?api-version=...`` with the ``api-key`` header, where ``model`` is the deployment name.

Structured output: ``response_format`` of type ``json_schema`` (the pydantic model's schema) when the server
supports it; a server that rejects that field gets plain JSON-in-text instead (the schema is then written into
the system prompt) and is remembered as such. Either way the reply goes through the shared checks
(``finish_reason: "length"`` refused as truncated, pydantic validation, repair only of complete replies).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, SecretStr

from backend.adapters.llm.client import StructuredLlm
from backend.adapters.llm.endpoints import check_base_url
from backend.adapters.llm.json_schema import inline_schema
from backend.adapters.llm.replies import Finish, Prompt, Reply
from backend.adapters.llm.retries import Failure, RetryPolicy
from backend.domain.errors import ProviderUnavailable

JsonMode = Literal["auto", "schema", "text"]
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_STOP: dict[str, Finish] = {"stop": "stop", "tool_calls": "stop", "function_call": "stop", "length": "length"}


class HttpFailure(Exception):
    """A non-2xx reply: status, the server's error message and its headers."""

    def __init__(self, status: int, message: str, headers: httpx2.Headers) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.message = message
        self.headers = headers


class FormatRejected(Exception):
    """The server does not support ``response_format`` (not a provider failure: ask again without it)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def retry_after(headers: httpx2.Headers, now: float | None = None) -> float | None:
    """The wait a 429/503 asks for: ``retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
        return max(0.0, parsed.timestamp() - (now or time.time())) if parsed else None


def _error_message(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")
    return str(error or body)[:200]


def _rejects_response_format(failure: HttpFailure) -> bool:
    text = failure.message.lower()
    return failure.status in (400, 422) and any(
        w in text for w in ("response_format", "json_schema", "response format")
    )


class OpenAiCompatibleClient(StructuredLlm):
    """One model behind a chat-completions endpoint.

    Args:
        base_url: e.g. ``http://localhost:11434/v1`` (Ollama), ``https://api.openai.com/v1``, or an Azure
            resource endpoint ``https://NAME.openai.azure.com`` together with ``api_version``.
        model: the model name (Azure: the deployment name).
        api_key: optional for local servers.
        api_version: set for Azure OpenAI's deployment URL form, e.g. ``2024-10-21``.
        json_mode: ``schema`` (always send ``response_format``), ``text`` (never), ``auto`` (try, then remember).
        transport: an ``httpx2`` transport (tests); timeouts and retries as for every engine.
    """

    engine_label = "The OpenAI-compatible server"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: SecretStr | str | None = None,
        api_version: str = "",
        json_mode: JsonMode = "auto",
        timeout_s: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        max_output_tokens: int = 8192,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not base_url.strip():
            raise ProviderUnavailable("No OpenAI-compatible server is configured — set COPILOT_OPENAI_BASE_URL.")
        if not model.strip():
            raise ProviderUnavailable(
                "No model is configured for the OpenAI-compatible server — set COPILOT_OPENAI_MODEL."
            )
        check_base_url(base_url, "COPILOT_OPENAI_BASE_URL")
        self._secret = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key or "")
        self.base_url = base_url.strip().rstrip("/")
        self.model = model.strip()
        self.api_version = api_version.strip()
        self.json_mode: JsonMode = json_mode
        self.schema_supported: bool | None = {"schema": True, "text": False}.get(json_mode)
        self.retry = retry
        self.max_output_tokens = max_output_tokens
        self._sleep = sleep
        self._rand = rand
        self._http = httpx2.Client(timeout=httpx2.Timeout(timeout_s, connect=min(10.0, timeout_s)), transport=transport)

    def __repr__(self) -> str:
        return f"OpenAiCompatibleClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def azure(self) -> bool:
        return bool(self.api_version)

    @property
    def name(self) -> str:
        return f"{'azure-openai' if self.azure else 'openai'}:{self.model}"

    @property
    def url(self) -> str:
        if self.azure:
            return f"{self.base_url}/openai/deployments/{self.model}/chat/completions?api-version={self.api_version}"
        return f"{self.base_url}/chat/completions"

    def _headers(self) -> dict[str, str]:
        key = self._secret.get_secret_value()
        if not key:
            return {}
        return {"api-key": key} if self.azure else {"Authorization": f"Bearer {key}"}

    def _scrub(self, text: str) -> str:
        key = self._secret.get_secret_value()
        return text.replace(key, "***") if key else text

    def _classify(self, what: str) -> Callable[[BaseException], Failure | None]:
        def classify(error: BaseException) -> Failure | None:
            if isinstance(error, HttpFailure):
                return self._explain(what, error)
            if isinstance(error, httpx2.TransportError):
                kind = "timed out" if isinstance(error, httpx2.TimeoutException) else "could not be reached"
                return Failure(f"{self.engine_label} {kind} ({what}; {self.base_url}).", retry=True)
            return None

        return classify

    def _explain(self, what: str, error: HttpFailure) -> Failure:
        status, detail = error.status, self._scrub(error.message)[:200]
        if status == 429:
            return Failure(
                f"{self.engine_label} is rate-limiting requests ({what}; 429). The offline engine is used meanwhile.",
                retry=True,
                delay_s=retry_after(error.headers),
            )
        if status in RETRY_STATUS:
            return Failure(
                f"{self.engine_label} is unavailable ({what}; HTTP {status}). The offline engine is used meanwhile.",
                retry=True,
                delay_s=retry_after(error.headers),
            )
        if status in (401, 403):
            return Failure(
                f"{self.engine_label} refused the API key ({status}): check COPILOT_OPENAI_API_KEY. {detail}"
            )
        if status == 404:
            kind = "deployment" if self.azure else "model or endpoint"
            return Failure(
                f"{self.engine_label} has no {kind} {self.model!r} at {self.base_url} (404): check "
                "COPILOT_OPENAI_BASE_URL and COPILOT_OPENAI_MODEL."
            )
        return Failure(f"{self.engine_label} rejected the request ({what}; HTTP {status}): {detail}".strip())

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(self.url, json=body, headers=self._headers())
        if response.status_code >= 300:
            failure = HttpFailure(response.status_code, _error_message(response), response.headers)
            if "response_format" in body and _rejects_response_format(failure):
                raise FormatRejected(self._scrub(failure.message)[:200])
            raise failure
        try:
            data = response.json()
        except ValueError:
            raise ProviderUnavailable(f"{self.engine_label} answered with something other than JSON.") from None
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{self.engine_label} answered with an unexpected body.")
        return data

    def _request(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._retrying(what, lambda: self._post(body), self._classify(what))
        return result

    def _body(
        self, contents: str, system: str | None, schema: type[BaseModel] | None, max_tokens: int, with_format: bool
    ) -> dict[str, Any]:
        instructions = system or ""
        if schema is not None:
            described = json.dumps(inline_schema(schema), separators=(",", ":"))
            instructions += (
                "\nReply with one JSON object only (no prose, no code fence)."
                if with_format
                else f"\nReply with one JSON object only (no prose, no code fence) matching this JSON schema:\n{described}"
            )
        messages = [{"role": "system", "content": instructions.strip()}] if instructions.strip() else []
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [*messages, {"role": "user", "content": contents}],
            "temperature": 0,
            "max_tokens": max_tokens,
        }
        if schema is not None and with_format:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": inline_schema(schema), "strict": False},
            }
        return body

    def complete(self, prompt: Prompt) -> Reply:
        """One chat completion (falling back once to JSON-in-text if the server rejects ``response_format``)."""
        what, contents, system, schema = prompt.what, prompt.text("OpenAI-compatible"), prompt.system, prompt.schema
        max_tokens = prompt.max_output_tokens or self.max_output_tokens
        with_format = schema is not None and self.schema_supported is not False
        try:
            data = self._request(what, self._body(contents, system, schema, max_tokens, with_format))
        except FormatRejected as rejected:
            if self.json_mode == "schema":
                raise ProviderUnavailable(
                    f"{self.engine_label} does not accept JSON-schema output ({rejected.detail}); "
                    "set COPILOT_OPENAI_JSON_MODE=text or auto."
                ) from None
            self.schema_supported = False
            data = self._request(what, self._body(contents, system, schema, max_tokens, with_format=False))
        else:
            if with_format:
                self.schema_supported = True
        return self._reply(data)

    def _reply(self, data: dict[str, Any]) -> Reply:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ProviderUnavailable(f"{self.engine_label} returned no choices.")
        choice = choices[0]
        message = choice.get("message") or {}
        reason = str(choice.get("finish_reason") or "")
        if message.get("refusal"):
            return Reply(text="", finish="other", reason=f"refused: {str(message['refusal'])[:120]}")
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        return Reply(text=text, finish=_STOP.get(reason, "other"), reason=f"finish_reason {reason or 'missing'}")

    def check(self) -> str:
        """A tiny completion with no patient data: proves the URL, key and model."""
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": "Reply with the word OK."}],
            "max_tokens": 5,
            "temperature": 0,
        }
        self._request("connection test", body)
        return f"{self.name} reachable at {self.base_url}; model {self.model} answered."
