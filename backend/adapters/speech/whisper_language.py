"""Which language is spoken in a recording, with the faster-whisper model the transcriber already loaded.

The transcriber decodes with ``language="en"``, so a consultation in Hindi comes out as romanised syllables and
one in Spanish as Spanish: nothing in the text says it went wrong. One ``detect_language`` call (one encoder
pass) on 30 s of the transcribed speech, sampled across the recording, settles the usual case (clearly English);
only when it does not are up to six stretches of speech identified one by one, to tell "partly" or "mostly
another language" (warn) from "no English at all" (fail).
Music and tones are checked here too (``audio_checks.sound_warnings``), as they fool Whisper's VAD and prompt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backend.adapters.speech.whisper_numerics import pin_numerics
from backend.domain.audio_checks import LanguageGuess, language_warnings, sound_warnings
from backend.domain.models import Segment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_WINDOW = 30 * SAMPLE_RATE  # Whisper's window: one encoder pass
_PIECES = 3  # a long recording is sampled at its start, middle and end
_MAX_PARTS = 6  # stretches checked one by one when the whole is not English
_MIN_PART = SAMPLE_RATE  # shorter stretches say too little about their language
_PAUSE_MS = 300
_OTHERS = 3  # other languages kept per identification, to name the one most likely over several


def whisper_model_of(transcriber: Any) -> Any | None:
    """The ``WhisperModel`` a transcriber decodes with (or its offline fallback does), else None."""
    for engine in (transcriber, getattr(transcriber, "offline", None)):
        model = getattr(engine, "_model", None)  # WhisperTranscriber keeps the shared, cached model there
        if model is not None and callable(getattr(model, "detect_language", None)):
            return model
    return None


def segment_spans(segments: Sequence[Segment], size: int) -> list[tuple[int, int]]:
    """Where the transcript's segments lie, in samples: the speech, found at no extra cost."""
    spans = [(int(s.start * SAMPLE_RATE), min(size, int(s.end * SAMPLE_RATE))) for s in segments if s.text.strip()]
    return [(a, b) for a, b in spans if b > a]


def speech_regions(samples: NDArray[np.float32]) -> list[tuple[int, int]]:
    """Stretches of speech between pauses of 0.3 s or more, in samples (Silero VAD).

    Finer than the transcript's segments, which may run one language into the next.
    """
    pin_numerics()  # before faster_whisper (and CTranslate2) first load
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if samples.size == 0:
        return []
    options = VadOptions(min_silence_duration_ms=_PAUSE_MS, speech_pad_ms=100, max_speech_duration_s=29)
    return [(c["start"], c["end"]) for c in get_speech_timestamps(samples, options)]


def sample_speech(samples: NDArray[np.float32], spans: Sequence[tuple[int, int]]) -> NDArray[np.float32]:
    """At most one window of the speech: all of it when short, else equal pieces from its start, middle and end."""
    speech = np.concatenate([samples[a:b] for a, b in spans]) if spans else np.zeros(0, dtype=np.float32)
    if speech.size <= _WINDOW:
        return speech
    piece = _WINDOW // _PIECES
    starts = np.linspace(0, speech.size - piece, _PIECES).astype(int)
    return np.concatenate([speech[s : s + piece] for s in starts])


def identify(model: Any, audio: NDArray[np.float32]) -> LanguageGuess:
    """One ``detect_language`` call (one encoder pass over at most 30 s)."""
    window = np.ascontiguousarray(audio[:_WINDOW], dtype=np.float32)
    _top, _p, probs = model.detect_language(audio=window)
    english = next((float(p) for code, p in probs if code == "en"), 0.0)
    others = tuple((str(code), float(p)) for code, p in probs if code != "en")[:_OTHERS]
    return LanguageGuess(english, others, window.size / SAMPLE_RATE)


def identify_parts(model: Any, samples: NDArray[np.float32]) -> list[LanguageGuess]:
    """The language of each of up to ``_MAX_PARTS`` stretches of speech spread over the recording."""
    regions = speech_regions(samples)
    long_enough = [r for r in regions if r[1] - r[0] >= _MIN_PART] or regions
    if not long_enough:
        return []
    picks = sorted({int(i) for i in np.linspace(0, len(long_enough) - 1, min(_MAX_PARTS, len(long_enough)))})
    return [identify(model, samples[a:b]) for a, b in (long_enough[i] for i in picks)]


def recording_warnings(transcriber: Any, samples: NDArray[np.float32], segments: Sequence[Segment]) -> list[str]:
    """What a Whisper transcript of bad input needs said: music or tones heard as words, another language.

    Only for engines decoding with a Whisper model: its VAD takes sung-like tones for speech, its drug-list prompt
    turns them into drug names, and ``language="en"`` garbles other languages. Other engines are not checked.

    Raises:
        ValidationFailed: music, tones or noise; a transcript looping on one word; no English speech at all.
    """
    model = whisper_model_of(transcriber)
    if model is None:
        return []
    return [*sound_warnings(samples, segments), *check_language(model, samples, segments)]


def check_language(model: Any, samples: NDArray[np.float32], segments: Sequence[Segment]) -> list[str]:
    """Warnings about the spoken language of ``samples`` (empty when English, or when there is no speech).

    Raises:
        ValidationFailed: nothing in the recording is English (see ``audio_checks.language_warnings``).
    """
    audio = np.ascontiguousarray(samples, dtype=np.float32)
    speech = sample_speech(audio, segment_spans(segments, audio.size))
    if speech.size == 0:
        return []
    started = time.perf_counter()
    whole = identify(model, speech)
    parts = [] if whole.clearly_english else identify_parts(model, audio)
    log.info(
        "spoken language: P(en)=%.2f, else %s; %d parts checked, %.1f of %.1f s English; %.2f s",
        whole.english,
        whole.others,
        len(parts),
        sum(g.seconds for g in parts if g.english_part),
        sum(g.seconds for g in parts),
        time.perf_counter() - started,
    )
    return language_warnings(whole, parts)
