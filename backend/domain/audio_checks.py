"""Is this recording a consultation the scribe can draft from? Pure checks on the audio and on what was heard.

Two kinds of bad input get through the "is it silent?" test and make Whisper write text that nobody said:

- music or tones: Silero VAD takes a steady sung-like tone for speech and Whisper, primed with the drug
  list, hears a drug name over and over ("Ecosprin, Ecosprin, ..." from 8 s of a vibrato tone);
- a consultation in another language: with ``language="en"`` Whisper transliterates or translates it.

The first is caught here from the samples (how much of the sound is pure tones or held notes) and from the
transcript (one word over and over); the second from the spoken-language probabilities that the speech adapter
measures, judged here. A room that echoes (or a microphone far from the speakers) gets through both and makes
Whisper miss words (WER 0.07 -> 0.22 with RT60 0.4 s): it is told from how slowly the sound dies away after speech
stops (``echo_ratio``). The wording of every message lives here too, so the worker and the CLI say the same thing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backend.domain.errors import ValidationFailed
from backend.domain.models import Segment

_FRAME = 512  # 32 ms at 16 kHz
_HOP = 256
# Two frame features tell music, tones and machines from voices; the shares are over the louder half of the
# frames. Measured on espeak-ng voices (en-us, en-gb, hi, es at pitch 20/50/99; two female variants) and on the
# first 2 minutes of 8 ACI-Bench consultations (4 valid, 4 train), against synthetic chords, an organ chord,
# 180-720 Hz tone bursts and a sung-like vibrato tone:
# - "tonal": the frame's 6 strongest FFT bins hold 90% of its power. Voices 0.00-0.31 (the highest female
#   voice is the 0.31), consultations 0.011-0.019; vibrato tone, organ 1.0, tone bursts 0.92; chords 0.0.
# - "sustained": the spectrum 64 ms later is nearly the same (cosine >= 0.95): notes hold still, speech moves.
#   Voices 0.00-0.10, consultations 0.018-0.029; chords 0.94, tone bursts 0.96, organ 1.0; vibrato tone 0.04.
_PEAK_BINS = 6
_TONAL_PEAK_SHARE = 0.9
_SUSTAIN_LAG = 4  # hops: 64 ms
_SUSTAIN_COSINE = 0.95
_BLOCK = 1024  # frames per block (16 s)
_MUSIC_SHARE = 0.6  # either share at least this: music or tones, not a consultation
_SOME_MUSIC_SHARE = 0.3  # "sustained" share at least this: part of it may be music (voices reach 0.10)
# Whisper looping on noise: the commonest word is at least this share of all words, among at least this many.
_LOOP_SHARE = 0.4
_LOOP_MIN_WORDS = 5
# Echo. Frame energies (16 ms frames, 8 ms hop) in dB; for the loud frames (within 15 dB of the 95th percentile),
# how far the level falls in the next 64 ms, as a share of how far it could fall (down to the 10th percentile, the
# room's floor, but at most 25 dB: espeak-ng's high female voices fade out smoothly below that). Dry speech falls
# to the floor at once, noisy or not; in an echoing room the tail holds it up (RT60 0.4 s: ~10 dB in 64 ms). The
# 90th percentile of that share on 60 s of 4 ACI-Bench train consultations: clean, pink noise 10 dB, babble 10 dB
# 1.00, white 20 dB and telephone 0.99-1.00, espeak-ng voices at pitch 20-99 (f2, f3, f5) 0.96-1.00; RT60 0.5 s
# 0.35-0.44, laptop (RT60 0.4 s + 200-5000 Hz + pink 15 dB) 0.65-0.73, RT60 0.3 s with the direct sound 6 dB over
# the tail 0.53-0.55, RT60 0.8 s 0.28-0.50. Between the two groups:
_ECHO_FRAME = 256
_ECHO_HOP = 128
_ECHO_LOOK = 8  # hops: 64 ms
_ECHO_LOUD_DB = 15.0
_ECHO_HEADROOM_DB = 25.0
_ECHO_RATIO = 0.85
# Spoken language. A sample of the whole speech with P(English) >= 0.8 is not looked at closer: on 16 espeak-ng
# ACI-Bench consultations (8 valid, 8 train) it was 0.90-0.99. Below that, a few stretches of speech are
# identified one by one (a window mixing languages leans to English: espeak-ng Hindi three times and one English
# sentence gave P(English) 0.63); a stretch is English when P(English) >= 0.5.
_CLEARLY_ENGLISH = 0.8
_PART_ENGLISH = 0.5
_MOSTLY_ENGLISH = 0.5  # English share of the checked speech below this: "most of this recording is not in English"
_ALL_ENGLISH = 0.85  # ... below this: "part of it is not"

NOT_SPEECH = (
    "This recording sounds like music, tones or noise rather than a conversation — no note was made. "
    "Record the consultation again (away from music or machines); the recording is kept."
)
LOOPING = (
    "The speech engine heard only the same word over and over ({word}) — this is usually music or noise, "
    "not speech. No note was made; record the consultation again (the recording is kept)."
)
SOME_MUSIC = (
    "Part of this recording sounds like music or tones rather than speech; words there may be misheard "
    "— check the draft against the recording."
)
ECHO = (
    "The room echoes (or the microphone is far from the speakers): the transcript may be wrong in places — "
    "check the draft against the recording, and next time record closer to the speakers or in a smaller room."
)
NOT_ENGLISH = (
    "Most of this recording is not in English{detected}; the draft may be wrong — check it against the recording."
)
PARTLY_NOT_ENGLISH = (
    "About {share}% of this recording is not in English{detected}; the draft may miss or garble "
    "what was said there — check it against the recording."
)
NO_ENGLISH = (
    "No English speech was found in this recording{detected}. The scribe drafts notes from "
    "English consultations only, so no note was made; the recording is kept."
)

# Whisper's codes of the languages a clinic here is likeliest to hear; a guess outside this table is not named.
LANGUAGE_NAMES = {
    "en": "English",
    "hi": "Hindi",
    "bn": "Bengali",
    "ta": "Tamil",
    "te": "Telugu",
    "mr": "Marathi",
    "gu": "Gujarati",
    "kn": "Kannada",
    "ml": "Malayalam",
    "pa": "Punjabi",
    "ur": "Urdu",
    "ne": "Nepali",
    "si": "Sinhala",
    "as": "Assamese",
    "es": "Spanish",
    "pt": "Portuguese",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "ar": "Arabic",
    "fa": "Persian",
    "tr": "Turkish",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "id": "Indonesian",
    "ms": "Malay",
    "th": "Thai",
    "vi": "Vietnamese",
    "sw": "Swahili",
}


@dataclass(frozen=True)
class SoundShares:
    """How much of a recording's louder half sounds like tones (``tonal``) or held notes (``sustained``)."""

    tonal: float
    sustained: float


def sound_shares(samples: NDArray[np.float32]) -> SoundShares:
    """The two frame features of the louder half of the frames (pauses and fades would only dilute them).

    Returns zeros for audio too short to measure.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.size < _FRAME * (_SUSTAIN_LAG + 2):
        return SoundShares(0.0, 0.0)
    energy, peak, cosine = _frame_features(x)
    loud = energy >= np.percentile(energy, 50)
    tonal = float(np.mean(peak[loud] >= _TONAL_PEAK_SHARE))
    both = loud[_SUSTAIN_LAG:] & loud[:-_SUSTAIN_LAG]
    sustained = float(np.mean(cosine[_SUSTAIN_LAG:][both] >= _SUSTAIN_COSINE)) if both.any() else 0.0
    return SoundShares(tonal, sustained)


def _frame_features(x: NDArray[np.float32]) -> tuple[NDArray[np.float64], ...]:
    """Per frame: energy, share of power in the strongest bins, cosine to the spectrum ``_SUSTAIN_LAG`` earlier.

    Computed a block of frames at a time, so an hour of audio needs a few MB, not gigabytes of spectra.
    """
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP]
    n = len(frames)
    energy, peak, cosine = np.zeros(n), np.zeros(n), np.zeros(n)
    window = np.hanning(_FRAME)
    for start in range(0, n, _BLOCK):
        lo = max(0, start - _SUSTAIN_LAG)  # the frames the block's first ones are compared with
        magnitude = np.abs(np.fft.rfft(frames[lo : start + _BLOCK] * window, axis=1))
        power = magnitude**2 + 1e-12
        total = power.sum(axis=1)
        top = -np.partition(-power, _PEAK_BINS, axis=1)[:, :_PEAK_BINS]
        now, before = magnitude[_SUSTAIN_LAG:], magnitude[:-_SUSTAIN_LAG]
        cos = (now * before).sum(axis=1) / (np.linalg.norm(now, axis=1) * np.linalg.norm(before, axis=1) + 1e-12)
        skip = start - lo
        end = start + len(total) - skip
        energy[start:end], peak[start:end] = total[skip:], top.sum(axis=1)[skip:] / total[skip:]
        cosine[lo + _SUSTAIN_LAG : end] = cos[max(0, skip - _SUSTAIN_LAG) :]
    return energy, peak, cosine


def echo_ratio(samples: NDArray[np.float32]) -> float:
    """How sharply the sound stops after speech: 1.0 when it falls to the room's floor within 64 ms, less the
    longer an echo holds it up (see ``_ECHO_RATIO``). Returns 1.0 for audio too short or too even to measure."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < _ECHO_FRAME + _ECHO_HOP * (_ECHO_LOOK + 1):
        return 1.0
    frames = np.lib.stride_tricks.sliding_window_view(x, _ECHO_FRAME)[::_ECHO_HOP]
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor, peak = np.percentile(level, 10), np.percentile(level, 95)
    ahead = np.lib.stride_tricks.sliding_window_view(level, _ECHO_LOOK + 1)
    now = ahead[:, 0]
    loud = (now >= peak - _ECHO_LOUD_DB) & (now - floor > 1.0)
    if not loud.any():
        return 1.0
    fall = (now - ahead[:, 1:].min(axis=1))[loud] / np.minimum(now[loud] - floor, _ECHO_HEADROOM_DB)
    return float(np.percentile(np.minimum(fall, 1.0), 90))


def looping_word(segments: Sequence[Segment]) -> str | None:
    """The word a transcript repeats over and over (Whisper's loop on music or noise), if it does."""
    words = re.findall(r"[^\W\d_]+", " ".join(s.text for s in segments).lower())
    if len(words) < _LOOP_MIN_WORDS:
        return None
    common = Counter(w for w in words if len(w) >= 3).most_common(1)  # "a", "of", "is" repeat in any speech
    if not common:
        return None
    word, count = common[0]
    return word if count >= _LOOP_SHARE * len(words) else None


def sound_warnings(samples: NDArray[np.float32], segments: Sequence[Segment]) -> list[str]:
    """Warnings for a recording that is partly music or tones, or made in a room that echoes.

    Raises:
        ValidationFailed: the recording is music, tones or noise (``NOT_SPEECH``), or the transcript is one
            word over and over (``LOOPING``): a note drafted from it would hold words nobody said.
    """
    word = looping_word(segments)
    if word is not None:
        raise ValidationFailed(LOOPING.format(word=f"“{word}”"))
    shares = sound_shares(samples)
    if max(shares.tonal, shares.sustained) >= _MUSIC_SHARE:
        raise ValidationFailed(NOT_SPEECH)
    warnings = [SOME_MUSIC] if shares.sustained >= _SOME_MUSIC_SHARE else []
    return [*warnings, ECHO] if echo_ratio(samples) < _ECHO_RATIO else warnings


@dataclass(frozen=True)
class LanguageGuess:
    """Whisper's language identification on some speech.

    Attributes:
        english: The probability of English.
        others: The likeliest other languages with their probabilities, best first (("hi", 0.6), ...).
        seconds: How much speech it was made on.
    """

    english: float
    others: tuple[tuple[str, float], ...] = ()
    seconds: float = 0.0

    @property
    def clearly_english(self) -> bool:
        """English beyond doubt: no need to look closer."""
        return self.english >= _CLEARLY_ENGLISH

    @property
    def english_part(self) -> bool:
        """A stretch of speech that is English more likely than not."""
        return self.english >= _PART_ENGLISH

    @property
    def other_language(self) -> bool:
        """A stretch not English whose likeliest language is another one a clinic may hear (``LANGUAGE_NAMES``).

        Whisper's guesses for English it cannot place — reverberant, noisy or a second long — are its fallbacks
        (Latin, Nynorsk, Finnish: 11 of 19 such stretches on 12 degraded ACI-Bench train consultations); they
        are no evidence of another language, so such a stretch does not count against English.
        """
        return not self.english_part and bool(self.others) and self.others[0][0] in LANGUAGE_NAMES


def language_warnings(whole: LanguageGuess | None, parts: Sequence[LanguageGuess] = ()) -> list[str]:
    """What to tell the clinician about the spoken language.

    Args:
        whole: Language identification on a sample of all the speech; None when it could not be run.
        parts: Identifications of stretches of speech checked one by one (when ``whole`` is not clearly
            English); without them ``whole`` is judged alone.

    Raises:
        ValidationFailed: the speech is not English and none of the stretches checked was (``NO_ENGLISH``).
    """
    if whole is None or whole.clearly_english:
        return []
    parts = parts or [whole]  # no stretch long enough to check on its own: the sample is all there is
    english = sum(g.seconds for g in parts if g.english_part)
    detected = _detected([whole, *(g for g in parts if not g.english_part)])
    if english == 0:
        raise ValidationFailed(NO_ENGLISH.format(detected=detected))
    # Only a stretch heard as a language a clinic may hear counts against English; a fallback guess counts neither way.
    seconds = sum(g.seconds for g in parts) or 1.0
    other = sum(g.seconds for g in parts if g.other_language) / seconds
    if other > 1.0 - _MOSTLY_ENGLISH:
        return [NOT_ENGLISH.format(detected=detected)]
    if other > 1.0 - _ALL_ENGLISH:
        return [PARTLY_NOT_ENGLISH.format(detected=detected, share=round(100 * other))]
    return []


def _detected(guesses: Sequence[LanguageGuess]) -> str:
    """ " (detected: Hindi)": the language likeliest over the speech that is not English, "" when none is named."""
    score: dict[str, float] = {}
    for guess in guesses:
        for code, p in guess.others:
            score[code] = score.get(code, 0.0) + p * guess.seconds
    named = sorted((c for c in score if c in LANGUAGE_NAMES), key=lambda c: -score[c])
    # Whisper's fallback guesses for speech it cannot place (Latin, Welsh, Maori ...) are not in the table.
    return f" (detected: {LANGUAGE_NAMES[named[0]]})" if named else ""
