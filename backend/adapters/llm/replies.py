"""What every LLM engine is asked (:class:`Prompt`) and what its reply becomes before it is trusted.

An engine turns one :class:`Prompt` into its wire format, and its wire format back into a :class:`Reply` (text
plus a normalised stop reason). Then, for every engine alike:

- a reply cut off at the output limit (``length``) is refused — repairing it would silently drop the end of
  the note;
- any other early stop (safety filter, guardrail, refusal, malformed tool call) is refused;
- a complete reply is validated with pydantic; only if it is not valid JSON at all is ``json-repair`` tried
  once, and the repaired object is validated again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

from backend.domain.errors import ProviderUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
Finish = Literal["stop", "length", "other"]


@dataclass(frozen=True)
class Prompt:
    """One request to an engine: the task (for logs and messages), its contents and how the reply must look.

    Attributes:
        what: the task, e.g. "note drafting".
        contents: a text prompt, or (Gemini) a list of parts such as uploaded audio.
        system: the system instruction, if any.
        schema: the pydantic model the reply must be JSON of (None: free text).
        max_output_tokens: a cap of the reply's length (None: the engine's default).
    """

    what: str
    contents: Any
    system: str | None = None
    schema: type[BaseModel] | None = None
    max_output_tokens: int | None = None

    def text(self, engine: str) -> str:
        """The contents as the text prompt that text-only engines send; TypeError for anything else (a bug)."""
        if not isinstance(self.contents, str):
            raise TypeError(f"{engine} engines take a text prompt")
        return self.contents


@dataclass(frozen=True)
class Reply:
    """One reply: its text, why the model stopped (normalised) and the engine's own word for it."""

    text: str
    finish: Finish
    reason: str = ""


def accept(reply: Reply, schema: type[T], what: str, engine: str) -> T:
    """The validated object of a complete reply; ProviderUnavailable for a truncated or stopped one."""
    if reply.finish == "length":
        raise ProviderUnavailable(f"{engine} reply truncated ({what}: it hit the output token limit); not used.")
    if reply.finish != "stop":
        raise ProviderUnavailable(f"{engine} stopped early ({what}: {reply.reason or 'no reason given'}); not used.")
    return parse_json_reply(reply.text, schema, what, engine)


def parse_json_reply(text: str, schema: type[T], what: str = "reply", engine: str = "The model") -> T:
    """Validate a complete reply against ``schema``; try ``json-repair`` once if it is not valid JSON."""
    try:
        return schema.model_validate_json(text)
    except ValidationError as first:
        try:
            json.loads(text)
        except json.JSONDecodeError:
            pass
        else:
            raise ProviderUnavailable(
                f"{engine} reply did not match the expected structure ({what}): {_short(first)}"
            ) from None
    repaired = json_repair.repair_json(text, return_objects=True)
    if not isinstance(repaired, dict):
        raise ProviderUnavailable(f"{engine} reply was not valid JSON ({what}) and could not be repaired.")
    try:
        result = schema.model_validate(repaired)
    except ValidationError as e:
        raise ProviderUnavailable(f"{engine} reply was not valid JSON ({what}): {_short(e)}") from None
    log.info("%s %s: malformed JSON repaired", engine, what)
    return result


def _short(error: ValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "invalid"
    return f"{'.'.join(str(p) for p in problems[0]['loc'])}: {problems[0]['msg']}"
