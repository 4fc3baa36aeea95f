"""Offline speech-to-text with faster-whisper (CTranslate2, int8 on CPU), and the offline STT factory.

The model is loaded once per process: a thread-safe cache keyed by (model, threads, compute type)
holds the ``WhisperModel``; every ``WhisperTranscriber`` built for the same folder shares it
(~150 MB of weights, ~350 MB RSS in use). CTranslate2 serialises calls on one model itself,
so concurrent ``transcribe`` calls from the worker thread and a live page are safe.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from backend.adapters.whisper_model import ModelNotReady, default_model_dir, looks_like_path, verify_model_dir
from backend.domain.errors import CopilotError, ProviderUnavailable
from backend.domain.models import Segment
from backend.ports import Transcriber

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# Measured with `python -m backend eval asr` on 10 espeak-ng ACI-Bench consultations (662 s): WER beam 1 0.146,
# beam 2 0.151, beam 5 0.121 (conditioned on previous text); without conditioning beam 2 0.135, beam 5 0.124
# at ~0.13 CPU-s per audio second. Beam 5 it is; the live path decodes greedily (beam 1) for speed.
DEFAULT_BEAM = 5
_PROMPT_MAX_CHARS = 500  # ~220 Whisper tokens for a list of drug names (the current list: 451 chars, 198 tokens)
PromptMode = Literal["initial", "hotwords", "none"]
DEFAULT_PROMPT_MODE: PromptMode = "hotwords"

# Decoding windows are cut at pauses. Whisper reads 30 s at a time; left to itself it starts each window where
# the last one's final timestamp fell, often mid-sentence, and then tends to skip the words up to the next
# sentence (a 13-word hole in one espeak-ng consultation). So, as before, faster-whisper's VAD settings cut
# silences of 2 s or more out; then Silero VAD finds the pauses (>= 0.2 s) in the speech that is left, and the
# speech is packed into clips of at most one window, each ending at the longest pause of its last 10 s and
# decoded on its own. With the drug list before every clip (prompt mode "hotwords"), measured with `eval asr`
# (normalised as now) on 10 valid / 20 train ACI-Bench consultations: WER 0.101 -> 0.091 / 0.099 -> 0.087;
# drug names heard right in 6 synthetic 70 s dialogues: 29/78 -> 62/78. Cost: ~15% more CPU (0.157 -> 0.18
# CPU-s per audio second), mostly short re-reads of a clip's tail that Whisper left undecoded.
_WINDOW_S = 30.0
_PAUSE_MS = 200
_PAD_MS = 200  # speech kept around each cut
_SLACK_S = 10.0  # a clip ends at the longest pause in its last 10 s


@lru_cache(maxsize=1)
def drug_prompt() -> str:
    """The spelling hint built from ``backend/data/drug_prompt.txt`` (one name per line)."""
    text = resources.files("backend.data").joinpath("drug_prompt.txt").read_text(encoding="utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    prompt = "Medicines: " + ", ".join(names) + "."
    if len(prompt) > _PROMPT_MAX_CHARS:
        # Whisper keeps only the last ~223 prompt tokens: the first names would silently be dropped.
        log.warning("drug prompt has %d characters; keep it under %d", len(prompt), _PROMPT_MAX_CHARS)
    return prompt


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


@dataclass(frozen=True)
class SpeechPlan:
    """What ``transcribe`` decodes: the speech of the input, and where to cut it into windows.

    Attributes:
        speech: The input with silences of 2 s or more cut out (faster-whisper's default VAD filter).
        clips: Pause-aligned windows to decode, (start, end) in seconds of ``speech``.
        chunks: The VAD chunks of the input, in samples, that ``speech`` is made of.
    """

    speech: NDArray[np.float32]
    clips: list[tuple[float, float]]
    chunks: list[dict[str, int]]

    def original_time(self, t: float, is_end: bool = False) -> float:
        """A time in ``speech`` as a time in the input (an end on a chunk's edge stays in that chunk)."""
        from faster_whisper.vad import SpeechTimestampsMap

        return float(SpeechTimestampsMap(self.chunks, SAMPLE_RATE).get_original_time(t, is_end=is_end))


def plan_speech(samples: NDArray[np.float32]) -> SpeechPlan:
    """Cut long silences out of ``samples`` and the speech into pause-aligned clips of one window at most."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions()) if samples.size else []
    if not chunks:
        return SpeechPlan(np.zeros(0, dtype=np.float32), [], [])
    speech = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
    pauses = VadOptions(min_silence_duration_ms=_PAUSE_MS, speech_pad_ms=0, max_speech_duration_s=_WINDOW_S - 1)
    regions = [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(speech, pauses)]
    return SpeechPlan(speech, pack_clips(regions, len(speech) / SAMPLE_RATE), chunks)


_MODELS: dict[tuple[str, int, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def _load_model(model: str, threads: int, compute_type: str) -> Any:
    """Load (or reuse) one ``WhisperModel``; raises ModelNotReady when CTranslate2 cannot read it."""
    key = (model, threads, compute_type)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from faster_whisper import WhisperModel  # heavy import: only when a transcriber is built

            started = time.perf_counter()
            try:
                _MODELS[key] = WhisperModel(model, device="cpu", compute_type=compute_type, cpu_threads=threads)
            except Exception as e:  # CTranslate2/hub raise many types; all mean "this model cannot be used"
                raise ModelNotReady(
                    f"The speech model {model} could not be loaded ({e}) — re-run `python -m backend provision`."
                ) from e
            log.info("whisper model %s loaded in %.1f s", model, time.perf_counter() - started)
        return _MODELS[key]


class WhisperTranscriber:
    """faster-whisper ``base`` on CPU: int8, pause-aligned windows, drug-name prompt; implements ``Transcriber``.

    Args:
        model_dir: A provisioned model folder (verified before loading), or a hub model id such as
            ``Systran/faster-whisper-base`` on a machine with internet (not verified: the hub pins it).
        threads: CPU threads for CTranslate2; default all cores.
        beam_size: Beam for the batch path (``transcribe``); ``transcribe_partial`` always decodes greedily.
        language: Language used when a call passes none; ``None`` lets Whisper detect it (slower, riskier).
        prompt_mode: How the drug list is given: ``hotwords`` (the default: repeated before every clip, so a
            drug named after the first 30 s is spelled right too), ``initial`` (Whisper's initial prompt: only
            the first window hears it, unless ``condition_on_previous_text``), or ``none`` (brands get lost:
            "Dolo 650" -> "no 650"). Before windows were cut at pauses, ``hotwords`` derailed long dialogue
            (WER 0.16 vs 0.10 on 10 consultations); on pause-aligned clips it does not (0.091 vs 0.094).
        verify: Check the folder's hashes before loading (skip only in tests that just verified it).
        condition_on_previous_text: Feed each 30 s window the previous window's text. Off by default: on
            espeak-ng consultations it let a misheard window derail the next ones (repetition loops).
    """

    low_accuracy = False

    def __init__(
        self,
        model_dir: Path | str,
        threads: int | None = None,
        beam_size: int = DEFAULT_BEAM,
        language: str | None = "en",
        prompt_mode: PromptMode = DEFAULT_PROMPT_MODE,
        compute_type: str = "int8",
        verify: bool = True,
        condition_on_previous_text: bool = False,
    ) -> None:
        model = str(model_dir)
        is_path = isinstance(model_dir, Path) or looks_like_path(model)
        if is_path and verify:
            verify_model_dir(Path(model).expanduser())
        self.name = f"whisper-{Path(model).name}" if is_path else f"whisper-{model}"
        self.beam_size = beam_size
        self.language = language
        self.prompt_mode = prompt_mode
        self.condition_on_previous_text = condition_on_previous_text
        threads = threads or os.cpu_count() or 1
        if is_path:
            self._model = _load_model(str(Path(model).expanduser()), threads, compute_type)
            return
        try:
            self._model = _load_model(model, threads, compute_type)
        except ModelNotReady as e:
            raise ModelNotReady(
                f"The speech model '{model}' is a hub name and could not be fetched (no internet?) — leave "
                "COPILOT_WHISPER_MODEL empty to use the provisioned folder, or point it at a model folder."
            ) from e

    def _prompt_kwargs(self) -> dict[str, Any]:
        if self.prompt_mode == "initial":
            return {"initial_prompt": drug_prompt()}
        if self.prompt_mode == "hotwords":
            return {"hotwords": drug_prompt()}
        return {}

    def _run(
        self,
        samples: NDArray[np.float32],
        language: str | None,
        clips: list[tuple[float, float]] | None = None,
        **options: Any,
    ) -> list[Segment]:
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.size == 0:
            return []
        if clips is not None:
            if not clips:
                return []  # no speech at all
            options["clip_timestamps"] = [t for clip in clips for t in clip]
        try:
            pieces, _info = self._model.transcribe(audio, language=language or self.language, **options)
            fps = self._model.frames_per_second  # mel frames per second (100): ``seek`` counts those
            texts = [(p.seek / fps, p.start, p.end, p.text.strip()) for p in pieces]  # the generator does the work
        except (RuntimeError, ValueError) as e:
            raise ProviderUnavailable(f"Speech recognition failed ({e}); the job can be retried.") from e
        kept = []
        for window_start, start, end, text in texts:
            if not text:
                continue
            if clips:
                # A clip's last words may be stamped past its end (Whisper saw padding there): keep them in it.
                lo, hi = next(((a, b) for a, b in clips if a - 0.01 <= window_start < b), (start, end))
                start = min(max(start, lo), hi)
                end = min(max(end, start), hi)
            kept.append((start, end, text))
        return [Segment(id=i, start=round(s, 2), end=round(e, 2), text=t) for i, (s, e, t) in enumerate(kept)]

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; silence gives ``[]`` (the VAD finds no speech).

        Each pause-aligned clip of :func:`plan_speech` is decoded on its own; times refer to ``samples``.
        """
        plan = plan_speech(np.ascontiguousarray(samples, dtype=np.float32))
        segments = self._run(
            plan.speech,
            language,
            clips=plan.clips,
            beam_size=self.beam_size,
            vad_filter=False,  # the plan is the VAD's work already
            condition_on_previous_text=self.condition_on_previous_text,
            **self._prompt_kwargs(),
        )
        return [
            s.model_copy(
                update={
                    "start": round(plan.original_time(s.start), 2),
                    "end": round(plan.original_time(s.end, True), 2),
                }
            )
            for s in segments
        ]

    def transcribe_partial(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Fast path for live captions on a rolling buffer: greedy, no VAD, no context carried over."""
        return self._run(
            samples,
            language,
            beam_size=1,
            best_of=1,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            **self._prompt_kwargs(),
        )


@dataclass(frozen=True)
class LoadedTranscriber:
    """What :func:`load_transcriber` chose; ``fallback_reason`` is set when it is not the preferred engine."""

    transcriber: Transcriber
    fallback_reason: str | None = None


def resolve_model(model_setting: str | None, data_dir: Path) -> Path | str:
    """COPILOT_WHISPER_MODEL as a folder, a hub id, or (empty) the provisioned default folder."""
    setting = (model_setting or "").strip()
    if not setting:
        return default_model_dir(data_dir)
    return Path(setting).expanduser() if looks_like_path(setting) else setting


def load_transcriber(model_setting: str | None, data_dir: Path, threads: int | None = None) -> LoadedTranscriber:
    """Whisper when its model loads; else pocketsphinx, with the reason to show in a banner.

    Args:
        model_setting: ``Settings.whisper_model`` (folder, hub id, or empty for the default folder).
        data_dir: ``Settings.data_dir``.
        threads: CPU threads for Whisper (default: all cores).

    Raises:
        ProviderUnavailable: neither engine can be loaded.
    """
    try:
        return LoadedTranscriber(WhisperTranscriber(resolve_model(model_setting, data_dir), threads=threads))
    except CopilotError as e:
        reason = e.message
    from backend.adapters.sphinx_stt import SphinxTranscriber

    log.warning("whisper unavailable, falling back to pocketsphinx: %s", reason)
    banner = f"Low-accuracy speech engine in use (pocketsphinx): {reason}"
    return LoadedTranscriber(SphinxTranscriber(), fallback_reason=banner)
