"""A transcriber that plays back what the test says was spoken, timed like a real recording.

It hears only the turns of the script that fall inside the audio it is given (16 kHz samples) and have sound
in it, so a cut-off recording loses its last turns and silence gives nothing, as on a real engine; it counts
its calls so a test can see that a redelivered job is not transcribed twice. ``transcribe_span`` (the second pass with drug-name hot words) gives
the words of that stretch, with any ``respelled`` phrase replaced when its correction is among the hot words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from backend.domain.models import Segment

RATE = 16_000
SILENCE = 1e-3  # peak amplitude under which a stretch holds nothing to hear


class ScriptedTranscriber:
    """Args: script: (start s, end s, text, speaker) of each turn; respelled: heard phrase -> word a prompt fixes."""

    def __init__(
        self,
        script: Sequence[tuple[float, float, str, str]],
        *,
        name: str = "scripted",
        low_accuracy: bool = False,
        respelled: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self._low_accuracy = low_accuracy
        self.script = list(script)
        self.respelled = dict(respelled or {})
        self.calls = 0

    @property
    def low_accuracy(self) -> bool:
        return self._low_accuracy

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        self.calls += 1
        heard = len(samples) / RATE
        audible = [t for t in self.script if t[0] < heard and _has_sound(samples, t[0], t[1])]
        return [
            Segment(id=i, start=start, end=min(end, heard), text=text, speaker=speaker)
            for i, (start, end, text, speaker) in enumerate(audible)
        ]

    def transcribe_span(self, samples: NDArray[np.float32], start: float, end: float, hotwords: str) -> str:
        words = " ".join(text for s, e, text, _ in self.script if s < end and e > start)
        for phrase, word in self.respelled.items():
            if word.lower() in hotwords.lower():
                words = words.replace(phrase, word)
        return words


def _has_sound(samples: NDArray[np.float32], start: float, end: float) -> bool:
    stretch = samples[int(start * RATE) : int(end * RATE)]
    return bool(stretch.size) and float(np.max(np.abs(stretch))) > SILENCE
