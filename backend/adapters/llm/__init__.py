"""LLM engines behind one interface: drafting, medication extraction, explanation rewrites, grounded answers.

Engine clients (Gemini, Amazon Bedrock and OpenAI-compatible servers, all in this package)
implement :class:`~backend.adapters.llm.client.StructuredLlm`; the task engines below take any of them, so the
prompts, validation, grounding check and fallbacks are the same whichever model answers.
"""

from backend.adapters.llm.answers import LlmAnswerer
from backend.adapters.llm.client import JsonLlm, StructuredLlm
from backend.adapters.llm.drafting import LlmDrafter
from backend.adapters.llm.explanations import LlmExplainer
from backend.adapters.llm.extraction import LlmMedicationExtractor
from backend.adapters.llm.replies import Reply, parse_json_reply
from backend.adapters.llm.retries import Failure, RetryPolicy, call_with_retries

__all__ = [
    "Failure",
    "JsonLlm",
    "LlmAnswerer",
    "LlmDrafter",
    "LlmExplainer",
    "LlmMedicationExtractor",
    "Reply",
    "RetryPolicy",
    "StructuredLlm",
    "call_with_retries",
    "parse_json_reply",
]
