"""Where to cut a recording for Whisper: long silences out, the speech packed into pause-aligned clips."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backend.adapters.speech.whisper_numerics import pin_numerics

SAMPLE_RATE = 16_000

# Decoding windows are cut at pauses. Whisper reads 30 s at a time; left to itself it starts each window where
# the last one's final timestamp fell, often mid-sentence, and then tends to skip the words up to the next
# sentence (a 13-word hole in one espeak-ng consultation). So, as before, faster-whisper's VAD settings cut
# silences of 2 s or more out; then Silero VAD finds the pauses (>= 0.2 s) in the speech that is left, and the
# speech is packed into clips of at most one window, each ending at the longest pause of its last 10 s and
# decoded on its own. With the drug list before every clip (prompt mode "hotwords"), measured with `eval asr`
# (normalised as now) on 10 valid / 20 train ACI-Bench consultations: WER 0.101 -> 0.091 / 0.099 -> 0.087;
# drug names heard right in 6 synthetic 70 s dialogues: 29/78 -> 62/78. Cost: ~15% more CPU (0.157 -> 0.18
# CPU-s per audio second), mostly short re-reads of a clip's tail that Whisper left undecoded. The transcriber
# now skips a tail that holds only padding (where Whisper "heard" drug names from its prompt).
_WINDOW_S = 30.0
_PAUSE_MS = 200
_PAD_MS = 200  # speech kept around each cut
_SLACK_S = 10.0  # a clip ends at the longest pause in its last 10 s


def pack_clips(
    regions: list[tuple[float, float]],
    duration: float,
    max_seconds: float = _WINDOW_S,
    pad: float = _PAD_MS / 1000,
    slack: float = _SLACK_S,
) -> list[tuple[float, float]]:
    """Pack speech regions (start, end in s, unpadded, in order) into clips of at most ``max_seconds``.

    Each clip takes as much speech as fits, then ends at the longest pause among its last ``slack`` seconds
    (a breath inside a sentence is shorter than the pause between turns); the cut lies in that pause, with up
    to ``pad`` of it on either side. A region longer than ``max_seconds`` stays a clip of its own.
    """
    clips: list[tuple[float, float]] = []
    i = 0
    while i < len(regions):
        start = max(0.0, regions[i][0] - pad)
        last = i  # the last region that fits after regions[i]
        while last + 1 < len(regions) and regions[last + 1][1] + pad - start <= max_seconds:
            last += 1
        if last + 1 < len(regions):  # more speech follows: end at the longest pause near the window's end
            late = [j for j in range(i, last + 1) if regions[j][1] - start >= max_seconds - slack] or [last]
            last = max(late, key=lambda j: (regions[j + 1][0] - regions[j][1], j))
        following = regions[last + 1][0] if last + 1 < len(regions) else duration
        end = min(regions[last][1] + pad, (regions[last][1] + following) / 2, duration)
        clips.append((max(start, clips[-1][1]) if clips else start, end))
        i = last + 1
    return clips


def split_at_longest_pause(
    regions: list[tuple[float, float]], clip: tuple[float, float]
) -> list[tuple[float, float]] | None:
    """The clip cut in two in the middle of its longest pause between speech regions; ``None`` if it has none."""
    inside = [(a, b) for a, b in regions if a < clip[1] and b > clip[0]]
    if len(inside) < 2:
        return None
    j = max(range(len(inside) - 1), key=lambda k: (inside[k + 1][0] - inside[k][1], -k))
    cut = (inside[j][1] + inside[j + 1][0]) / 2
    return [(clip[0], cut), (cut, clip[1])]


@dataclass(frozen=True)
class SpeechPlan:
    """What ``transcribe`` decodes: the speech of the input, and where to cut it into windows.

    Attributes:
        speech: The input with silences of 2 s or more cut out (faster-whisper's default VAD filter).
        clips: Pause-aligned windows to decode, (start, end) in seconds of ``speech``.
        chunks: The VAD chunks of the input, in samples, that ``speech`` is made of.
        regions: The stretches of speech in ``speech`` (s, unpadded) between pauses of 0.2 s or more.
    """

    speech: NDArray[np.float32]
    clips: list[tuple[float, float]]
    chunks: list[dict[str, int]]
    regions: list[tuple[float, float]] = field(default_factory=list)

    def speech_seconds(self, start: float, end: float) -> float:
        """Seconds of speech (by the VAD) between ``start`` and ``end`` of ``speech``."""
        return sum(max(0.0, min(end, b) - max(start, a)) for a, b in self.regions)

    def original_time(self, t: float, is_end: bool = False) -> float:
        """A time in ``speech`` as a time in the input (an end on a chunk's edge stays in that chunk)."""
        from faster_whisper.vad import SpeechTimestampsMap

        return float(SpeechTimestampsMap(self.chunks, SAMPLE_RATE).get_original_time(t, is_end=is_end))


def plan_speech(samples: NDArray[np.float32]) -> SpeechPlan:
    """Cut long silences out of ``samples`` and the speech into pause-aligned clips of one window at most."""
    pin_numerics()  # before faster_whisper (and CTranslate2) first load
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions()) if samples.size else []
    if not chunks:
        return SpeechPlan(np.zeros(0, dtype=np.float32), [], [])
    speech = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
    pauses = VadOptions(min_silence_duration_ms=_PAUSE_MS, speech_pad_ms=0, max_speech_duration_s=_WINDOW_S - 1)
    regions = [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(speech, pauses)]
    return SpeechPlan(speech, pack_clips(regions, len(speech) / SAMPLE_RATE), chunks, regions)
