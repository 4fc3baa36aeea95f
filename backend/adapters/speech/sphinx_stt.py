"""Last-resort offline speech-to-text: pocketsphinx 5 with the US English model shipped in its wheel.

Used only when the Whisper model cannot be loaded; its accuracy is poor on conversational
speech (WER ~0.3), so it reports ``low_accuracy = True`` and the UI says so.
"""

from __future__ import annotations

import io
import threading

import numpy as np
from numpy.typing import NDArray

from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment

SAMPLE_RATE = 16_000


class SphinxTranscriber:
    """pocketsphinx decoder over VAD-split utterances; implements ``Transcriber``."""

    name = "pocketsphinx"
    low_accuracy = True

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError as e:  # pragma: no cover - it is a pinned dependency
            raise ProviderUnavailable("pocketsphinx is not installed — run `pip install -r requirements.txt`.") from e
        self._ps = pocketsphinx
        pocketsphinx.set_loglevel("FATAL")
        self._decoder = pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        # One decoder keeps state between start_utt/end_utt: one call at a time.
        self._lock = threading.Lock()

    def _decode(self, pcm: bytes) -> str:
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """English only (``language`` other than English is ignored: the wheel has no other model)."""
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2").tobytes()
        if not pcm:
            return []
        segmenter = self._ps.Segmenter(sample_rate=SAMPLE_RATE)
        out: list[Segment] = []
        with self._lock:
            for utt in segmenter.segment(io.BytesIO(pcm)):
                text = self._decode(utt.pcm)
                if text:
                    out.append(
                        Segment(id=len(out), start=round(utt.start_time, 2), end=round(utt.end_time, 2), text=text)
                    )
        return out

    def transcribe_partial(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Same as :meth:`transcribe` (pocketsphinx has no cheaper mode); keeps the live path engine-agnostic."""
        return self.transcribe(samples, language)
