"""Plain-language rewrites of anomaly explanations, kept only when every number survives.

The offline explanation ("Resting heart rate 78 bpm is 12 bpm above the usual 66 bpm, 3 days running") is
correct but terse. An LLM may phrase it for a patient; the rewrite is used only if it keeps every number of
the original and adds none — otherwise the original is returned unchanged.
"""

from __future__ import annotations

import logging

from backend.adapters.llm.client import JsonLlm
from backend.adapters.llm.schemas import RewriteReply
from backend.domain.errors import ProviderUnavailable
from backend.domain.grounding import numbers_preserved

log = logging.getLogger(__name__)
SYSTEM = """Rewrite a wearable-data alert in plain, calm language for a clinician to read to a patient.
Keep every number and unit exactly as given; add no new numbers, causes, diagnoses or advice. One or two sentences."""


class LlmExplainer:
    """``rewrite(text) -> text``: the rewrite when its numbers match the original, else the original."""

    def __init__(self, client: JsonLlm) -> None:
        self.client = client
        self.name = client.name
        self.last_error: str | None = None

    def rewrite(self, text: str) -> str:
        """Rewrite one explanation; never raises for provider problems (the original is good enough)."""
        if not text.strip():
            return text
        try:
            reply = self.client.generate_json("explanation rewrite", f"Alert: {text}", RewriteReply, system=SYSTEM)
        except ProviderUnavailable as e:
            self.last_error = e.message
            return text
        rewrite = reply.text.strip()
        if not rewrite or not numbers_preserved(text, rewrite):
            log.info("explanation rewrite dropped: numbers changed")
            return text
        return rewrite
