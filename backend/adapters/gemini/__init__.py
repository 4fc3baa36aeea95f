"""Gemini (``google-genai``) engines: drafting, medication extraction, transcription, rewrites, answers."""

from backend.adapters.gemini.answers import GeminiAnswerer
from backend.adapters.gemini.client import GeminiClient, RetryPolicy
from backend.adapters.gemini.drafting import GeminiDrafter
from backend.adapters.gemini.explanations import GeminiExplainer
from backend.adapters.gemini.extraction import GeminiMedicationExtractor
from backend.adapters.gemini.transcription import GeminiTranscriber

__all__ = [
    "GeminiAnswerer",
    "GeminiClient",
    "GeminiDrafter",
    "GeminiExplainer",
    "GeminiMedicationExtractor",
    "GeminiTranscriber",
    "RetryPolicy",
]
