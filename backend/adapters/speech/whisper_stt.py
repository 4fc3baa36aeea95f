"""Offline speech-to-text with faster-whisper (CTranslate2, int8 on CPU), and the offline STT factory.

The model is loaded once per process: a thread-safe cache keyed by (model, threads, compute type, workers)
holds the ``WhisperModel``; every ``WhisperTranscriber`` built for the same folder shares it
(~150 MB of weights, ~350 MB RSS in use). CTranslate2 runs as many calls at once as the model has workers
(``COPILOT_WHISPER_PARALLEL``, ``Settings.whisper_parallel``) and queues the rest, so concurrent
``transcribe`` calls from the worker threads and a live page are safe, and never use more cores than
workers x threads: two scribe jobs (``COPILOT_WORKER_THREADS=2``) each decoding two clips at once still
decode two clips at a time in all, one core each, and the jobs share the cores instead of oversubscribing them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from backend.adapters.speech.whisper_model import ModelNotReady, default_model_dir, looks_like_path, verify_model_dir
from backend.adapters.speech.whisper_numerics import pin_numerics
from backend.adapters.speech.whisper_parallel import map_in_order
from backend.adapters.speech.whisper_plan import (
    SAMPLE_RATE,
    SpeechPlan,
    pack_clips,
    plan_speech,
    split_at_longest_pause,
)
from backend.adapters.speech.whisper_repetition import MAX_WORD_SECONDS, repetition_problem, without_loops
from backend.domain.errors import CopilotError, ProviderUnavailable
from backend.domain.medications.hint_list import hint_list_names
from backend.domain.models import Segment, Word
from backend.domain.prompt_readout import prompt_names, readout_words
from backend.ports import Transcriber

log = logging.getLogger(__name__)

# The plan lived here first; callers still import it from this module.
__all__ = ["SAMPLE_RATE", "SpeechPlan", "pack_clips", "plan_speech", "split_at_longest_pause"]

# Measured with `python -m backend eval asr` on 10 espeak-ng ACI-Bench consultations (662 s): WER beam 1 0.146,
# beam 2 0.151, beam 5 0.121 (conditioned on previous text); without conditioning beam 2 0.135, beam 5 0.124
# at ~0.13 CPU-s per audio second. Beam 5 it is; the live path decodes greedily (beam 1) for speed.
DEFAULT_BEAM = 5
# Patience 2 (the beam searches on until it has twice as many finished candidates) gained only ~0.001 WER on the
# whole espeak-ng ACI-Bench consultations scored both ways (valid 00 01 02 04, train 00 04 05 06), and on a quiet
# machine it cost 8 % more decoding (7.3 min of valid 02: 45.6 s -> 49.4 s), which put a 10-minute consultation past
# 90 s to its draft. Patience 1 (faster-whisper's default) it is.
DEFAULT_PATIENCE = 1.0
# Clips decoded at once, each on its own share of the cores (see ``WhisperTranscriber``'s ``parallel``). A beam-5
# decoder step is a few small matrix products: two intra-op threads synchronise at every step and scale poorly,
# while two clips decoded side by side, one thread each, share nothing. Measured on valid 02 (440 s, 18 clips),
# both settings in the same run on a machine at load ~20: 1 clip x 2 threads 58.4 user + 11.2 system = 69.6 CPU-s,
# 692 s wall; 2 clips x 1 thread 59.0 + 6.0 = 64.9 CPU-s (-7 %), 649 s wall; the same 21 segments, text and
# times. Transcription's peak RSS 550 -> 826 MB (two encoder passes at once). The whole `draft --audio` of a
# 10-minute consultation, same run at load ~20: 113.4 -> 101.3 CPU-s, peak RSS 793 -> 1 026 MB; one after the other
# on a nearly quiet machine (load ~2): 94.1 -> 61.2 s wall, 111.9 -> 105.5 CPU-s (1.19 -> 1.72 cores busy), peak RSS
# 842 -> 963 MB; its JSON (transcript, note, medications) byte for byte the same in every run. A live caption
# (``transcribe_partial``) and a span of the drug-name second pass are one decode each: on 2 cores they now run on
# one thread; a caption beside a batch job waits only until one of the two clips being decoded ends.
DEFAULT_PARALLEL = 2
_PROMPT_HEAD = "Medicines: "
_PROMPT_MAX_CHARS = 500  # ~220 Whisper tokens for a list of drug names (the current list: 451 chars, 198 tokens)
PromptMode = Literal["initial", "hotwords", "none"]
DEFAULT_PROMPT_MODE: PromptMode = "hotwords"

# Each clip is decoded by its own call at temperature 0 (the same audio, the same text) and checked; on whole
# espeak-ng ACI-Bench consultations (first 4 of valid / train, 24 / 28 min) WER went 0.098 -> 0.078 and
# 0.108 -> 0.094 with the checks below and the revised drug list, at 0.14-0.15 CPU-s per audio second
# (word timestamps included; they cost ~4%).
_TAIL_SPEECH_S = 0.4  # less speech than this after a clip's last segment is padding, not a word left unread
_LEFT_UNREAD_S = 1.0  # this much speech after the last word Whisper wrote is a turn it skipped
# condition_on_previous_text: the previous clip's last ~100 tokens go into the prompt after the drug list. Measured
# on all 8 + 8 whole espeak-ng ACI-Bench consultations (valid / train): WER 0.088 / 0.095 against 0.087 / 0.096
# without; on the files scored both ways 0.078 -> 0.078 and 0.096 -> 0.099, each consultation moving by up to
# 0.02 either way (better where it spells a phrase from context, worse where it inserts words): left off.
_PREVIOUS_MAX_CHARS = 400
# A clip whose text loops is cut in two at its longest pause; a piece of 10 s or more that still loops is cut once
# more. Before that second cut, 18.7 s of a nurse asking the same question three times (real speech, not a loop
# of Whisper's) were dropped from the transcript whole.
_MAX_SPLITS = 2
_SPLIT_AGAIN_S = 10.0
# Also measured and not kept: faster-whisper's BatchedInferencePipeline over the same clips gave the same text
# on a 3-minute consultation but no saving on 2 cores (0.151 CPU-s per audio second at batch 4, 0.163 at batch
# 8 with 1.2 GB RSS, vs 0.144 one clip at a time). Where the time goes on a 7-minute consultation (CPU-s, a busy machine): transcribe
# 71.5 of 81.2 (decoder 48.7, encoder 22.3, word alignment 3.0), roles 2.5, drug-name second pass 4.0, draft 0.4.
# Profiled again clip by clip (valid 02, 440 s, CPU-s on a machine at load ~20): 18 clips of 14-30 s (mean 24.1 s,
# 433 s of speech), 19 encoder passes (one tail re-read; no clip decoded twice for a loop, no halves, nothing left
# unread), 1 595 tokens written. transcribe 66.2 = decoder 43.0 (2.3 a clip) + encoder 18.0 (0.95 a pass: every
# pass is a padded 30 s window, so 24 s clips pay for 30) + word alignment 2.7 + features and Python 2.4; the plan
# (Silero VAD, twice) 1.9. Nothing found was work whose result is thrown away. Measured on one 29.5 s clip, not kept:
# - the hot-word prompt (212 tokens) costs ~27 % of each clip's decoding at beam 5 (3.04 vs 2.39 CPU-s for the same
#   ~100 tokens; its prefill alone is ~0.09 s, the rest is every beam step attending to it). It is what spells the
#   drug names, so it stays; a shorter list would be cheaper (backend/data/drug_prompt.txt).
# - beam 4: the same clip 2.67 vs 3.04 CPU-s (-12 % of decoding). On whole consultations, run side by side: valid 04
#   (229 s) WER 0.078 -> 0.075, 41.2 -> 38.1 CPU-s; train 04 (180 s) 0.127 -> 0.132, 34.0 -> 33.7 CPU-s. The
#   splits disagree and the saving is ~4 % of transcription: beam 5 stays.
# - CTranslate2 on this AMD CPU (Zen 4) picks AVX2 and oneDNN. CT2_USE_MKL=1 made one clip 6.6 -> 42 CPU-s (6.7 M
#   page faults); CT2_FORCE_CPU_ISA=AVX512 and OMP_WAIT_POLICY=passive moved it by less than the noise (6.3, 6.0).
# - Each encoder pass takes ~435 MB of attention buffers (72 MB a layer, above glibc's 32 MB mmap ceiling) fresh from
#   the kernel: 111 k page faults and ~0.3 s of system CPU a pass. mallopt (M_MMAP_MAX 0, M_TRIM_THRESHOLD) left
#   them as they were (CTranslate2 allocates in its own thread); the glibc tunable ``glibc.malloc.hugetlb=1``
#   (environment variable GLIBC_TUNABLES, read at process start) cut them to 7 k and one clip's system CPU
#   1.10 -> 0.75 s. On all of valid 04 (229 s, both runs side by side): the same words and times, 1.25 M -> 51 k
#   page faults, system CPU 5.1 -> 4.2 s, user 29.7 -> 29.9 s (-2.5 % in all): a setting for the process that
#   runs the worker (not for this module), worth little.
# - CTranslate2 accepts features shorter than 30 s (2 000 frames: encoder 0.40 vs 1.07 CPU-s), but Whisper was
#   trained on padded 30 s windows; not tried for accuracy.


@lru_cache(maxsize=1)
def drug_prompt() -> str:
    """The spelling hint built from ``backend/data/drug_prompt.txt``."""
    prompt = _PROMPT_HEAD + ", ".join(hint_list_names()) + "."
    if len(prompt) > _PROMPT_MAX_CHARS:
        # Whisper keeps only the last ~223 prompt tokens: the first names would silently be dropped.
        log.warning("drug prompt has %d characters; keep it under %d", len(prompt), _PROMPT_MAX_CHARS)
    return prompt


@dataclass(frozen=True)
class Piece:
    """One decoded Whisper segment: times in seconds of a plan's speech; words as (start, end, text)."""

    start: float
    end: float
    text: str
    words: tuple[tuple[float, float, str], ...] = ()


_MODELS: dict[tuple[str, int, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def _load_model(model: str, threads: int, compute_type: str, workers: int = 1) -> Any:
    """Load (or reuse) one ``WhisperModel``; raises ModelNotReady when CTranslate2 cannot read it.

    ``threads`` per decode, ``workers`` decodes at once (CTranslate2 queues further calls until one is free).
    """
    key = (model, threads, compute_type, workers)
    with _MODELS_LOCK:
        if key not in _MODELS:
            pin_numerics()  # one arithmetic on every machine, set before CTranslate2 first loads
            from faster_whisper import WhisperModel  # heavy import: only when a transcriber is built

            started = time.perf_counter()
            try:
                _MODELS[key] = WhisperModel(
                    model, device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=workers
                )
            except Exception as e:  # CTranslate2/hub raise many types; all mean "this model cannot be used"
                raise ModelNotReady(
                    f"The speech model {model} could not be loaded ({e}) — re-run `python -m backend provision`."
                ) from e
            log.info("whisper model %s loaded in %.1f s", model, time.perf_counter() - started)
        return _MODELS[key]


def _plausible(pieces: list[Piece], clip: tuple[float, float], names: tuple[str, ...] = ()) -> list[Piece]:
    """A reading without its impossible segments; a segment that loops, or reads the prompt's ``names`` out,
    keeps the words around its loop or readout."""
    kept = []
    for piece in pieces:
        looping = repetition_problem(piece.text, piece.end - piece.start) in ("loop", "too long")
        readout = _readout(piece, names)
        if not looping and not readout:
            kept.append(piece)
        elif (rest := _without_loops(piece, readout)) is not None:
            log.info("whisper: %s left out of clip %.1f-%.1f s, %d words around it kept",
                     "loop" if looping else "prompt readout", *clip, len(rest.words))  # fmt: skip
            kept.append(rest)
    return kept


def _readout(piece: Piece, names: tuple[str, ...]) -> set[int]:
    """Indices of the piece's words that read the prompt out (of its text's words when it has no timings)."""
    if not names:
        return set()
    return readout_words([w[2] for w in piece.words] if piece.words else piece.text.split(), names)


@lru_cache(maxsize=4)
def _names_of(prompt_text: str) -> tuple[str, ...]:
    """The drug names of a prompt :func:`drug_prompt` made ("Medicines: a, b." -> ("a", "b")); other text has none."""
    if not prompt_text.startswith(_PROMPT_HEAD):
        return ()
    return prompt_names(prompt_text.removeprefix(_PROMPT_HEAD).rstrip(".").split(","))


def _word_count(pieces: list[Piece]) -> int:
    return sum(len(p.words) or len(p.text.split()) for p in pieces)


def _without_loops(piece: Piece, readout: set[int] | None = None) -> Piece | None:
    """A looping piece without its loops (and the ``readout`` words' indices), when the words around them make
    a plausible piece (else None).

    Without it, one loop in a 12 s segment ("an echocardiogram" heard as "a record, a record, ...") dropped the
    whole segment, and with it "I do want to add Aldactone 12.5 milligrams daily" said before the loop.
    """
    keep = [k for k in without_loops([w[2] for w in piece.words]) if k not in (readout or ())] if piece.words else []
    if not keep:
        return None
    words = tuple(piece.words[k] for k in keep)
    text = " ".join(w[2] for w in words)
    # The kept words' speaking rate leaves out the time of the words dropped between them.
    kept = set(keep)
    dropped = sum(e - s for k, (s, e, _) in enumerate(piece.words) if k not in kept and keep[0] < k < keep[-1])
    if repetition_problem(text, words[-1][1] - words[0][0] - dropped) is not None:
        return None
    return Piece(words[0][0], words[-1][1], text, words)


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
            the first clip hears it), or ``none`` (brands get lost:
            "Dolo 650" -> "no 650"). Before windows were cut at pauses, ``hotwords`` derailed long dialogue
            (WER 0.16 vs 0.10 on 10 consultations); on pause-aligned clips it does not (0.091 vs 0.094).
        verify: Check the folder's hashes before loading (skip only in tests that just verified it).
        condition_on_previous_text: Prompt each clip with the previous clip's text too. Off by default: it
            helps one consultation and hurts the next (figures at ``_PREVIOUS_MAX_CHARS``).
        word_timestamps: Give every segment its words with their times (used to split segments where the
            speaker changes).
        parallel: Clips of one recording decoded at once (at most ``threads``), each with
            ``threads // parallel`` threads; the transcript keeps the clips' order. Not with
            ``condition_on_previous_text`` (each clip waits for the previous one's text then).
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
        word_timestamps: bool = True,
        parallel: int = DEFAULT_PARALLEL,
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
        self.word_timestamps = word_timestamps
        threads = threads or os.cpu_count() or 1
        self.parallel = max(1, min(parallel, threads))
        per_decode = max(1, threads // self.parallel)
        if is_path:
            self._model = _load_model(str(Path(model).expanduser()), per_decode, compute_type, self.parallel)
            return
        try:
            self._model = _load_model(model, per_decode, compute_type, self.parallel)
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

    def _clip_prompt(self, first: bool, previous: str) -> dict[str, Any]:
        """The prompt of one clip: the drug list as the mode says, plus the previous clip's text if asked."""
        prompt = self._prompt_kwargs() if first or self.prompt_mode == "hotwords" else {}
        if self.condition_on_previous_text and previous:
            prompt["initial_prompt"] = previous
        return prompt

    def _decode(
        self, plan: SpeechPlan, clip: tuple[float, float], options: dict[str, Any], prompt: dict[str, Any]
    ) -> list[Piece]:
        """Decode one clip of ``plan.speech``; times of the pieces are in seconds of ``plan.speech``."""
        lo, hi = clip
        audio = plan.speech[round(lo * SAMPLE_RATE) : round(hi * SAMPLE_RATE)]
        if audio.size < SAMPLE_RATE // 10:
            return []

        def inside(t: float) -> float:
            # A clip's last words may be stamped past its end (Whisper saw padding there): keep them in it.
            return min(max(lo + t, lo), hi)

        pieces: list[Piece] = []
        try:
            segments, _info = self._model.transcribe(audio, **options, **prompt)
            for seg in segments:  # lazy: the next 30 s window is decoded only when asked for
                text = seg.text.strip()
                if text:
                    words = tuple((inside(w.start), inside(w.end), w.word.strip()) for w in seg.words or ())
                    pieces.append(Piece(inside(seg.start), max(inside(seg.end), inside(seg.start)), text, words))
                # Whisper re-reads whatever follows its last timestamp; when that is only the clip's padding it
                # "hears" the drug list there ("Ciprofloxacin," in 0.2 s). Stop once the speech is all written.
                if plan.speech_seconds(lo + seg.end, hi) < _TAIL_SPEECH_S:
                    break
        except (RuntimeError, ValueError) as e:
            raise ProviderUnavailable(f"Speech recognition failed ({e}); the job can be retried.") from e
        # Whisper sometimes closes a window as if the speech had ended while seconds of it are left (a whole
        # turn lost: "motrin 800 mg ... 2 week supply"); those seconds are decoded on their own.
        read_to = max((p.words[-1][1] if p.words else p.end for p in pieces), default=lo)
        if read_to - lo >= _LEFT_UNREAD_S and plan.speech_seconds(read_to, hi) >= _LEFT_UNREAD_S:
            log.info("whisper: %.1f s of speech left unread in clip %.1f-%.1f s", hi - read_to, lo, hi)
            pieces += self._decode(plan, (read_to, hi), options, prompt)
        return pieces

    def _problem(
        self, plan: SpeechPlan, clip: tuple[float, float], pieces: list[Piece], names: tuple[str, ...] = ()
    ) -> str | None:
        for piece in pieces:
            if _readout(piece, names):
                return "prompt read out"
            problem = repetition_problem(piece.text, piece.end - piece.start)
            if problem in ("loop", "too long"):  # "too short" is judged on the whole clip's speech
                return problem
            if any(plan.speech_seconds(start, end) > MAX_WORD_SECONDS for start, end, _ in piece.words):
                return "too short"  # one word aligned over seconds of speech: the words said there were skipped
        return repetition_problem(" ".join(p.text for p in pieces), plan.speech_seconds(*clip))

    def decode_clip(
        self,
        plan: SpeechPlan,
        clip: tuple[float, float],
        options: dict[str, Any],
        prompt: dict[str, Any],
        splits: int = 0,
    ) -> list[Piece]:
        """Decode a clip; if the text cannot be what was said, decode it again another deterministic way.

        First the clip is cut at its longest pause and each half decoded on its own (a loop rarely survives
        a change of context); a half of 10 s or more still wrong is cut once more (speech that really repeats
        itself, a question asked again and again, shows fewer repeats in a shorter piece); a piece still wrong
        is decoded without the prompt; if that is wrong too, of the two readings without their impossible
        segments (a looping one keeps the words around its loop, the prompted one drops its drug names read
        out) the one keeping more words is taken.
        ``splits`` is how many cuts made this clip.
        """
        names = _names_of(str(prompt.get("hotwords") or prompt.get("initial_prompt") or ""))
        pieces = self._decode(plan, clip, options, prompt)
        problem = self._problem(plan, clip, pieces, names)
        if problem is None:
            return pieces
        log.info("whisper: %s in clip %.1f-%.1f s; decoding it again", problem, *clip)
        may_split = splits == 0 or (splits < _MAX_SPLITS and clip[1] - clip[0] >= _SPLIT_AGAIN_S)
        halves = split_at_longest_pause(plan.regions, clip) if may_split else None
        if halves:
            return [p for half in halves for p in self.decode_clip(plan, half, options, prompt, splits + 1)]
        readings = [_plausible(pieces, clip, names)]  # its readout words (of the prompt it had) left out too
        if prompt:
            plain = self._decode(plan, clip, options, {})
            if self._problem(plan, clip, plain) is None:
                return plain
            readings.append(_plausible(plain, clip))
        # No reading is right as a whole: each keeps its plausible segments (a looping one only the words around
        # its loop), and the reading that keeps the most words wins (the first on a tie). A 29 s clip with no
        # pause to cut at, whose first reading looped as a whole, was dropped entire while the reading without
        # the prompt had four good segments and one loop.
        return max(readings, key=_word_count)

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; silence gives ``[]`` (the VAD finds no speech).

        Each pause-aligned clip of :func:`plan_speech` is decoded on its own at temperature 0 (so the same
        audio always gives the same text) and checked for loops; times of segments and words refer to
        ``samples``.
        """
        plan = plan_speech(np.ascontiguousarray(samples, dtype=np.float32))
        options = {
            "language": language or self.language,
            "beam_size": self.beam_size,
            "patience": DEFAULT_PATIENCE,
            # faster-whisper's fallback samples at rising temperatures, at random; loops are handled here.
            "temperature": 0.0,
            "vad_filter": False,  # the plan is the VAD's work already
            "condition_on_previous_text": False,  # each clip gets its context through its prompt
            "word_timestamps": self.word_timestamps,
        }
        pieces: list[Piece] = []
        if self.condition_on_previous_text:
            previous = ""
            for i, clip in enumerate(plan.clips):
                got = self.decode_clip(plan, clip, options, self._clip_prompt(i == 0, previous))
                pieces += got
                previous = " ".join(p.text for p in got)[-_PREVIOUS_MAX_CHARS:]
        else:
            # The clips are independent: decoded ``parallel`` at a time, their pieces kept in clip order.
            def one(numbered: tuple[int, tuple[float, float]]) -> list[Piece]:
                return self.decode_clip(plan, numbered[1], options, self._clip_prompt(numbered[0] == 0, ""))

            for got in map_in_order(one, list(enumerate(plan.clips)), self.parallel):
                pieces += got
        return [
            Segment(
                id=i,
                start=round(plan.original_time(p.start), 2),
                end=round(plan.original_time(p.end, True), 2),
                text=p.text,
                words=[
                    Word(start=round(plan.original_time(s), 2), end=round(plan.original_time(e, True), 2), text=t)
                    for s, e, t in p.words
                    if t
                ],
            )
            for i, p in enumerate(pieces)
        ]

    def transcribe_span(self, samples: NDArray[np.float32], start: float, end: float, hotwords: str) -> str:
        """Decode ``[start, end)`` seconds of ``samples`` again with ``hotwords`` as the prompt; its text.

        Used by the targeted second pass over a stretch where a drug name was expected (beam, temperature 0,
        no word times: only the text is compared with the first reading).
        """
        audio = np.ascontiguousarray(samples[max(0, round(start * SAMPLE_RATE)) : round(end * SAMPLE_RATE)])
        if audio.size < SAMPLE_RATE // 10:
            return ""
        try:
            segments, _info = self._model.transcribe(
                audio.astype(np.float32, copy=False),
                language=self.language,
                beam_size=self.beam_size,
                temperature=0.0,
                vad_filter=False,
                condition_on_previous_text=False,
                hotwords=hotwords,
            )
            return " ".join(s.text.strip() for s in segments).strip()
        except (RuntimeError, ValueError) as e:
            raise ProviderUnavailable(f"Speech recognition failed ({e}); the job can be retried.") from e

    def transcribe_partial(self, samples: NDArray[np.float32], language: str | None = None) -> list[Segment]:
        """Fast path for live captions on a rolling buffer: greedy, no VAD, no context carried over."""
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.size == 0:
            return []
        try:
            segments, _info = self._model.transcribe(
                audio,
                language=language or self.language,
                beam_size=1,
                best_of=1,
                temperature=0.0,
                vad_filter=False,
                condition_on_previous_text=False,
                **self._prompt_kwargs(),
            )
            kept = [(s.start, s.end, s.text.strip()) for s in segments]  # the generator does the work
        except (RuntimeError, ValueError) as e:
            raise ProviderUnavailable(f"Speech recognition failed ({e}); the job can be retried.") from e
        texts = [k for k in kept if k[2]]
        return [Segment(id=i, start=round(s, 2), end=round(e, 2), text=t) for i, (s, e, t) in enumerate(texts)]


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


def load_transcriber(
    model_setting: str | None, data_dir: Path, threads: int | None = None, parallel: int = DEFAULT_PARALLEL
) -> LoadedTranscriber:
    """Whisper when its model loads; else pocketsphinx, with the reason to show in a banner.

    Args:
        model_setting: ``Settings.whisper_model`` (folder, hub id, or empty for the default folder).
        data_dir: ``Settings.data_dir``.
        threads: CPU threads for Whisper (default: all cores).
        parallel: ``Settings.whisper_parallel``: clips decoded at once (see ``WhisperTranscriber``).

    Raises:
        ProviderUnavailable: neither engine can be loaded.
    """
    try:
        return LoadedTranscriber(
            WhisperTranscriber(resolve_model(model_setting, data_dir), threads=threads, parallel=parallel)
        )
    except CopilotError as e:
        reason = e.message
    from backend.adapters.speech.sphinx_stt import SphinxTranscriber

    log.warning("whisper unavailable, falling back to pocketsphinx: %s", reason)
    banner = f"Low-accuracy speech engine in use (pocketsphinx): {reason}"
    return LoadedTranscriber(SphinxTranscriber(), fallback_reason=banner)
