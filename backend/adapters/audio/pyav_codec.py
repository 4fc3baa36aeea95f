"""AudioCodec port over the PyAV decoder module."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio import decode as audio_decode
from backend.ports import AudioProbe


class PyAvCodec:
    def probe(self, data: bytes, max_bytes: int) -> AudioProbe:
        info = audio_decode.probe_audio(data, max_bytes=max_bytes)
        return AudioProbe(
            duration_s=info.duration_s, codec=info.codec, sample_rate=info.sample_rate, channels=info.channels
        )

    def decode(self, data: bytes, max_seconds: float, max_bytes: int) -> tuple[NDArray[np.float32], list[str]]:
        report = audio_decode.decode_audio_report(data, max_seconds=max_seconds, max_bytes=max_bytes)
        return report.samples, list(report.warnings)

    def is_silent(self, samples: NDArray[np.float32]) -> bool:
        return audio_decode.is_silent(samples)
