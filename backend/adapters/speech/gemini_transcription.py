"""Speech-to-text with Gemini, with speaker labels, implementing ``backend.ports.Transcriber``.

Small recordings travel inline in the request (``Part.from_bytes``); the request limit is 20 MB in total,
so anything above ``inline_limit_bytes`` (15 MB: about 8 minutes of 16 kHz 16-bit mono WAV) goes through the
Files API and is deleted as soon as the reply is in (the API would otherwise keep it for 48 hours).
"""

from __future__ import annotations

import numpy as np
from google.genai import types
from numpy.typing import NDArray

from backend.adapters.audio.decode import encode_wav
from backend.adapters.llm.gemini import GeminiClient
from backend.adapters.llm.schemas import TranscriptReply
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment

SAMPLE_RATE = 16_000
INLINE_LIMIT = 15 * 1024 * 1024
SYSTEM = """Transcribe this clinical consultation verbatim, in the language spoken.
Split it into segments of one sentence or short turn each, label each segment's speaker as 'doctor',
'patient' or 'other' (a relative, an interpreter), and give start and end times in seconds.
Never summarise, correct or add words; write numbers as digits; mark unclear words as [inaudible]."""
LANGUAGES = {"en": "English", "hi": "Hindi", "en-US": "English", "en-IN": "Indian English", "hi-IN": "Hindi"}


wav_bytes = encode_wav  # one WAV encoder for the whole app


class GeminiTranscriber:
    """``Transcriber`` over Gemini audio understanding; raises ProviderUnavailable to fall back."""

    low_accuracy = False

    def __init__(self, client: GeminiClient, inline_limit_bytes: int = INLINE_LIMIT) -> None:
        self.client = client
        self.name = client.name
        self.inline_limit_bytes = inline_limit_bytes

    def check(self) -> str:
        """The client's connection test (the ``Checkable`` capability)."""
        return self.client.check()

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Segments with speaker labels and times (clamped to the recording, never overlapping backwards)."""
        audio = wav_bytes(samples)
        duration = len(samples) / SAMPLE_RATE
        prompt = SYSTEM
        if language:
            prompt += f"\nThe consultation is in {LANGUAGES.get(language, language)}."
        uploaded: types.File | None = None
        if len(audio) <= self.inline_limit_bytes:
            part = types.Part.from_bytes(data=audio, mime_type="audio/wav")
        else:
            uploaded = self.client.upload(audio, "audio/wav")
            part = types.Part.from_uri(file_uri=str(uploaded.uri), mime_type=uploaded.mime_type or "audio/wav")
        try:
            reply = self.client.generate_json("transcription", [prompt, part], TranscriptReply, max_output_tokens=65536)
        finally:
            if uploaded is not None:
                self.client.delete_file(uploaded.name)
        return to_segments(reply, duration)


def to_segments(reply: TranscriptReply, duration: float) -> list[Segment]:
    """Validated reply -> ordered segments; times clamped into [0, duration] and made non-decreasing."""
    segments: list[Segment] = []
    previous_end = 0.0
    for item in reply.segments:
        text = item.text.strip()
        if not text:
            continue
        start = min(max(item.start, previous_end), duration)
        end = min(max(item.end, start), duration)
        speaker = item.speaker.strip().lower() or None
        segments.append(Segment(id=len(segments), start=round(start, 2), end=round(end, 2), text=text, speaker=speaker))
        previous_end = end
    if not segments:
        raise ProviderUnavailable("Gemini returned an empty transcript.")
    return segments
