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
    """faster-whisper ``base`` on CPU: int8, VAD filter, drug-name prompt; implements ``Transcriber``.

    Args:
        model_dir: A provisioned model folder (verified before loading), or a hub model id such as
            ``Systran/faster-whisper-base`` on a machine with internet (not verified: the hub pins it).
        threads: CPU threads for CTranslate2; default all cores.
        beam_size: Beam for the batch path (``transcribe``); ``transcribe_partial`` always decodes greedily.
        language: Language used when a call passes none; ``None`` lets Whisper detect it (slower, riskier).
        prompt_mode: How the drug list is given: ``initial`` (Whisper's initial prompt; it conditions the
            first 30 s window, and later ones too when ``condition_on_previous_text``), ``hotwords``
            (repeated in every window: no better on drug names, sometimes derails long dialogue), or ``none``
            (brands get lost: "Dolo 650" -> "no 650").
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
        prompt_mode: PromptMode = "initial",
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

    def _run(self, samples: NDArray[np.float32], language: str | None, **options: Any) -> list[Segment]:
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.size == 0:
            return []
        try:
            pieces, _info = self._model.transcribe(audio, language=language or self.language, **options)
            texts = [(p.start, p.end, p.text.strip()) for p in pieces]  # the generator does the work
        except (RuntimeError, ValueError) as e:
            raise ProviderUnavailable(f"Speech recognition failed ({e}); the job can be retried.") from e
        kept = [t for t in texts if t[2]]
        return [Segment(id=i, start=round(s, 2), end=round(e, 2), text=t) for i, (s, e, t) in enumerate(kept)]

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; silence gives ``[]`` (the VAD removes it)."""
        return self._run(
            samples,
            language,
            beam_size=self.beam_size,
            # faster-whisper's default VAD settings (2 s silence splits chunks) scored best: short splits
            # (0.5 s) cut conversational turns apart and lose context (WER 0.110 vs 0.096 on 4 clips).
            vad_filter=True,
            condition_on_previous_text=self.condition_on_previous_text,
            **self._prompt_kwargs(),
        )

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
