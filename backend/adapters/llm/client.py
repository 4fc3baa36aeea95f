"""The one interface the drafting, extraction, explanation and answer engines need from any LLM.

Gemini, Amazon Bedrock and OpenAI-compatible servers each implement ``complete`` (one request in their own
wire format, retried by :mod:`backend.adapters.llm.retries`) and ``check`` (a cheap authenticated call that
sends no patient data); :class:`StructuredLlm` adds the shared ``generate_json`` on top, so validation,
truncation and repair rules are written once.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from backend.adapters.llm.replies import Prompt, Reply, accept
from backend.adapters.llm.retries import Classifier, RetryPolicy, call_with_retries

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")


class JsonLlm(Protocol):
    """What the LLM engines (drafter, extractor, explainer, answerer) call."""

    @property
    def name(self) -> str: ...

    def generate_json(
        self,
        what: str,
        contents: Any,
        schema: type[T],
        *,
        system: str | None = None,
        max_output_tokens: int | None = None,
    ) -> T: ...

    def check(self) -> str: ...


class StructuredLlm(ABC):
    """Base of every LLM client: ``complete`` per engine, ``generate_json`` shared."""

    engine_label = "The model"  # "Gemini", "Bedrock", ... in user-facing messages
    retry: RetryPolicy = RetryPolicy()
    _sleep: Callable[[float], None] = staticmethod(time.sleep)
    _rand: Callable[[], float] = staticmethod(random.random)

    def _retrying(self, what: str, fn: Callable[[], R], classify: Classifier) -> R:
        """Run one request of this engine under its retry policy (see ``backend.adapters.llm.retries``)."""
        return call_with_retries(
            what, fn, classify, policy=self.retry, sleep=self._sleep, rand=self._rand, engine=self.engine_label
        )

    @property
    @abstractmethod
    def name(self) -> str:
        """``engine:model``, shown on the providers page and stored with each draft."""

    @abstractmethod
    def complete(self, prompt: Prompt) -> Reply:
        """One request (with retries); the reply's text and normalised stop reason."""

    @abstractmethod
    def check(self) -> str:
        """A cheap authenticated call for the providers page; raises ProviderUnavailable."""

    def generate_json(
        self,
        what: str,
        contents: Any,
        schema: type[T],
        *,
        system: str | None = None,
        max_output_tokens: int | None = None,
    ) -> T:
        """Ask for ``schema``-shaped JSON and accept only a complete, valid reply (see ``replies.accept``)."""
        reply = self.complete(Prompt(what, contents, system, schema, max_output_tokens))
        return accept(reply, schema, what, self.engine_label)
