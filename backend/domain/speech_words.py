"""A note's speech engine (``Note.speech``) in one sentence, for the review, the timeline and the exports."""

from __future__ import annotations

from backend.domain.engine_words import CHECK_WORDS, engine_words
from backend.domain.models import SpeechEngine

# Engines that run in this process (the rest are services reached over the network), by name prefix.
LOCAL_ENGINES = ("whisper", "pocketsphinx", "sphinx")


def on_this_computer(engine: str) -> bool:
    """True for an engine that runs here (Whisper, the backup recogniser), False for a cloud service."""
    return engine.lower().startswith(LOCAL_ENGINES)


def speech_sentence(speech: SpeechEngine) -> str:
    """``Transcribed on this computer by Whisper base, standing in for Amazon Transcribe (AWS) (unavailable:
    quota exceeded).`` The configured engine that served is named without a reason; a low-accuracy engine adds
    the check it calls for."""
    where = " on this computer" if on_this_computer(speech.engine) else ""
    sentence = f"Transcribed{where} by {engine_words(speech.engine)}"
    if speech.stood_in_for:
        why = f" (unavailable: {speech.reason.rstrip('.')})" if speech.reason else " (unavailable)"
        sentence += f", standing in for {engine_words(speech.stood_in_for)}{why}"
    sentence += "."
    if speech.low_accuracy:
        sentence += f" It is the low-accuracy backup: {CHECK_WORDS}."
    return sentence


def needs_attention(speech: SpeechEngine) -> bool:
    """A stand-in or a low-accuracy engine: the reviewer is warned, not just told."""
    return bool(speech.stood_in_for) or speech.low_accuracy
