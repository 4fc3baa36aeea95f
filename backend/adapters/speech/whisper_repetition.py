"""Signs that Whisper's text for a stretch of audio is not what was said: loops, text too long or short.

Whisper base, decoded at temperature 0, sometimes loops on a phrase ("ciprofloxacin, ciprofloxacin, ...") or
continues its drug-list prompt over a pause; faster-whisper's own answer (sampling again at a higher
temperature) makes the transcript differ from run to run. The adapter instead re-decodes such a stretch
deterministically; these checks, on plain text and seconds, decide when.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

from backend.domain.prompt_readout import words_of

# Whisper's own threshold: text that gzip shrinks more than 2.4 times is a loop, not speech.
COMPRESSION_RATIO_MAX = 2.4
_COMPRESSION_MIN_CHARS = 60  # shorter text compresses badly whatever it says
# Consultations repeat words while thinking ("i i i have", "it it it"): a run of one word counts as a loop
# from 4 repeats; a phrase (or one long word, >= 8 letters, which nobody stutters) from 3.
_REPEATS_OF_A_WORD = 4
_REPEATS_OF_A_PHRASE = 3
_LONG_WORD = 8
_MAX_PHRASE_WORDS = 6
# Speaking rate: conversational English is ~12-16 characters (letters and spaces) a second of speech, fast
# speech ~20; more than 35 is not speech (a drug list "heard" in a 0.3 s pause). Under 5 a second of speech
# (a third of the usual rate) over several seconds means Whisper skipped words: a clip of 23 s whose text
# stopped at "we give you some", a whole turn about the dose left out.
MAX_CHARS_PER_SECOND = 35.0
_RATE_MIN_CHARS = 10  # one short word can be stamped into a tiny interval
MIN_CHARS_PER_SECOND = 5.0
_SHORT_MIN_SECONDS = 5.0
# No word takes 2.5 s of speech to say (the longest in 8 espeak-ng consultations: under 2 s). Whisper's word
# alignment stretches the word before a skipped passage over it ("you" from 219.6 to 235.4 s).
MAX_WORD_SECONDS = 2.5


def compression_ratio(text: str) -> float:
    """How many times zlib shrinks the text's UTF-8 bytes (Whisper's loop measure)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _runs(words: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Every phrase of up to 6 words with how many times it occurs back to back from where it starts."""
    for size in range(1, _MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - 2 * size + 1):
            phrase = words[start : start + size]
            count = 1
            while words[start + count * size : start + (count + 1) * size] == phrase:
                count += 1
            yield count, phrase


def is_loop(words: list[str]) -> bool:
    """True when a phrase repeats back to back more than a speaker's stutter does."""
    return any(_looped(count, p) for count, p in _runs(words))


def _looped(count: int, phrase: list[str]) -> bool:
    """``phrase`` said ``count`` times back to back is a loop, not a speaker's stutter."""
    return count >= _REPEATS_OF_A_WORD or (
        count >= _REPEATS_OF_A_PHRASE and (len(phrase) > 1 or len(phrase[0]) >= _LONG_WORD)
    )


def repetition_problem(text: str, seconds: float | None = None) -> str | None:
    """Why ``text`` cannot be a transcript of ``seconds`` of speech, or ``None`` when it can.

    Args:
        text: What Whisper wrote for a stretch of audio (a segment or a whole clip).
        seconds: How long that stretch's speech lasts; ``None`` skips the speaking-rate checks.

    Returns:
        ``"loop"`` (a phrase repeated back to back, or text that compresses like one), ``"too long"``
        (more characters than anyone says in that time), ``"too short"`` (seconds of speech, next to no
        words), or ``None``.
    """
    words = words_of(text)
    chars = len(" ".join(words))
    if is_loop(words):
        return "loop"
    if chars >= _COMPRESSION_MIN_CHARS and compression_ratio(" ".join(words)) > COMPRESSION_RATIO_MAX:
        return "loop"
    if seconds is None:
        return None
    if chars >= _RATE_MIN_CHARS and chars > MAX_CHARS_PER_SECOND * max(seconds, 0.0):
        return "too long"
    if seconds >= _SHORT_MIN_SECONDS and chars < MIN_CHARS_PER_SECOND * seconds:
        return "too short"
    return None


def _word_key(word: str) -> str:
    return "".join(words_of(word))


def without_loops(words: Sequence[str]) -> list[int]:
    """Indices of ``words`` (Whisper's words, punctuation attached) that are not part of a phrase looping back to
    back, as :func:`is_loop` counts a loop ("... I'll have a record, a record, a record, a record about two
    months" -> "... I'll have about two months").

    The loop goes whole, not kept once: what it was written over is not known, and a loop is often the drug list
    of the prompt read out ("Ciprofloxacin, ciprofloxacin, ..."), which must not become a drug said once. The
    words around it were heard once and are kept. A stutter under the loop counts is kept as said.
    """
    keys = [_word_key(w) for w in words]
    keep: list[int] = []
    i = 0
    while i < len(keys):
        covered = 0  # words of the longest loop starting here
        for size in range(1, _MAX_PHRASE_WORDS + 1):
            phrase = keys[i : i + size]
            if len(phrase) < size or not all(phrase):
                break
            count = 1
            while keys[i + count * size : i + (count + 1) * size] == phrase:
                count += 1
            if _looped(count, phrase):
                covered = max(covered, count * size)
        if covered:
            i += covered
        else:
            keep.append(i)
            i += 1
    return keep
