"""Gemini (``google-genai``): the client behind the shared LLM engines, and audio transcription."""

from backend.adapters.gemini.client import GeminiClient
from backend.adapters.gemini.transcription import GeminiTranscriber
from backend.adapters.llm.retries import RetryPolicy

__all__ = ["GeminiClient", "GeminiTranscriber", "RetryPolicy"]
