"""Amazon Bedrock through the Converse API (``bedrock-runtime`` ``converse``), for clinics whose data stays in AWS.

Structured output uses the documented way to force JSON with Converse: one tool whose ``inputSchema`` is the
pydantic model's JSON schema, and ``toolChoice`` naming that tool, so the model's answer arrives as the tool
call's ``input``. The input is then validated by the shared checks like every other engine's reply
(``backend.adapters.llm.replies``): a ``max_tokens`` stop is refused as truncated, a guardrail or content
filter stop is refused, a schema mismatch is refused.

botocore's own retries are switched off; throttling, ``ModelNotReadyException``, timeouts and 5xx are retried
by the shared policy (``backend.adapters.llm.retries``) so every engine backs off the same way. Access denied
becomes a message naming the model whose access is missing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from pydantic import BaseModel

from backend.adapters.llm.client import StructuredLlm
from backend.adapters.llm.json_schema import inline_schema
from backend.adapters.llm.replies import Finish, Prompt, Reply
from backend.adapters.llm.retries import Failure, RetryPolicy

# Claude Haiku 4.5 through the global cross-region inference profile (Claude 4.x models are invoked through
# inference profiles). For data residency use a geographic profile instead, e.g. "apac.", "eu." or "us.".
DEFAULT_MODEL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
RETRY_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelNotReadyException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelTimeoutException",
    }
)
_STOP: dict[str, Finish] = {
    "end_turn": "stop",
    "tool_use": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
}


def tool_name(schema: type[BaseModel]) -> str:
    """The single tool's name for ``schema`` (Converse allows ``[a-zA-Z0-9_-]{1,64}``)."""
    return f"record_{schema.__name__}"[:64]


class BedrockClient(StructuredLlm):
    """One model (or inference profile) on Amazon Bedrock.

    Args:
        model_id: a model id or inference profile id/ARN.
        region: the Bedrock region (the data is processed there, or across the profile's regions).
        timeout_s: read timeout per request.
        retry: the shared retry policy.
        max_output_tokens: default cap of the reply length.
        client: an already built ``bedrock-runtime`` client (tests pass one wrapped in a botocore Stubber).
        sleep, rand: injectable for tests (no real waiting).
    """

    engine_label = "Bedrock"

    def __init__(
        self,
        model_id: str = DEFAULT_MODEL,
        *,
        region: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        max_output_tokens: int = 8192,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.model_id = model_id or DEFAULT_MODEL
        self.retry = retry
        self.max_output_tokens = max_output_tokens
        self._sleep = sleep
        self._rand = rand
        self._client = client or boto3.client(
            "bedrock-runtime",
            region_name=region or None,
            config=Config(
                connect_timeout=10,
                read_timeout=timeout_s,
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
        )
        self.region = str(self._client.meta.region_name)

    def __repr__(self) -> str:
        return f"BedrockClient(model_id={self.model_id!r}, region={self.region!r})"

    @property
    def name(self) -> str:
        return f"bedrock:{self.model_id}"

    def _classify(self, what: str) -> Callable[[BaseException], Failure | None]:
        def classify(error: BaseException) -> Failure | None:
            if isinstance(error, ClientError):
                info = error.response.get("Error", {})
                return self._explain(what, str(info.get("Code", "")), str(info.get("Message", "")))
            if isinstance(error, NoCredentialsError):
                return Failure("No AWS credentials were found for Bedrock: configure a role, profile or access key.")
            if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
                return Failure(f"Bedrock timed out ({what}).", retry=True)
            if isinstance(error, EndpointConnectionError | ConnectionClosedError):
                return Failure(f"Bedrock could not be reached ({what}) in {self.region}.", retry=True)
            if isinstance(error, BotoCoreError):
                return Failure(f"Bedrock call failed ({what}): {type(error).__name__}.")
            return None

        return classify

    def _explain(self, what: str, code: str, message: str) -> Failure:
        detail = message[:200]
        if code == "AccessDeniedException":
            return Failure(
                f"Bedrock denied access to model {self.model_id} in {self.region} ({code}). Request access to this "
                "model under Bedrock > Model access in that region, and allow bedrock:InvokeModel on it for this "
                f"app's IAM role. {detail}".strip()
            )
        if code == "ResourceNotFoundException":
            return Failure(
                f"Bedrock has no model {self.model_id!r} in {self.region}: check COPILOT_BEDROCK_MODEL_ID and "
                "COPILOT_BEDROCK_REGION (Claude 4 models need an inference profile id such as 'global.…')."
            )
        if code == "ThrottlingException":
            return Failure(f"Bedrock is throttling requests ({what}). The offline engine is used meanwhile.", True)
        if code == "ModelNotReadyException":
            return Failure(f"Bedrock model {self.model_id} is not ready yet ({what}); try again shortly.", True)
        if code in RETRY_CODES:
            return Failure(f"Bedrock is unavailable ({what}; {code}). The offline engine is used meanwhile.", True)
        return Failure(f"Bedrock rejected the request ({what}; {code}): {detail}".strip())

    def _converse(self, what: str, request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self._retrying(what, lambda: self._client.converse(**request), self._classify(what))
        return response

    def complete(self, prompt: Prompt) -> Reply:
        """One ``converse`` request; with a schema, the forced tool call's input is the reply."""
        contents, schema = prompt.text("Bedrock"), prompt.schema
        request: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": contents}]}],
            "inferenceConfig": {"maxTokens": prompt.max_output_tokens or self.max_output_tokens, "temperature": 0.0},
        }
        if prompt.system:
            request["system"] = [{"text": prompt.system}]
        if schema is not None:
            name = tool_name(schema)
            request["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": name,
                            "description": (schema.__doc__ or f"Record the {schema.__name__}.").strip()[:500],
                            "inputSchema": {"json": inline_schema(schema)},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": name}},
            }
        response = self._converse(prompt.what, request)
        stop = str(response.get("stopReason", ""))
        content = response.get("output", {}).get("message", {}).get("content", []) or []
        text = "".join(str(block["text"]) for block in content if "text" in block)
        if schema is not None:
            uses = [b["toolUse"] for b in content if "toolUse" in b and b["toolUse"].get("name") == tool_name(schema)]
            if uses:
                text = json.dumps(uses[0].get("input"))
        return Reply(text=text, finish=_STOP.get(stop, "other"), reason=f"stop reason {stop or 'missing'}")

    def check(self) -> str:
        """A one-token request with no patient data: proves credentials, region and model access."""
        request = {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": "Reply with the word OK."}]}],
            "inferenceConfig": {"maxTokens": 5, "temperature": 0.0},
        }
        self._converse("connection test", request)
        return f"Bedrock reachable in {self.region}; model {self.model_id} answered."
