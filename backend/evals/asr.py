"""Speech-to-text quality and speed: WER and real-time factor on pairs X.wav + X.txt.

``python -m backend eval asr --audio-dir DIR`` scores every ``X.<audio>`` that has an ``X.txt`` beside it.
``--make-from-aci CSV --n 10`` first synthesises N ~60 s consultation excerpts from ACI-Bench dialogues
with espeak-ng (doctor and patient in different voices) into DIR, then scores them.
WER is computed after normalisation (case, punctuation, fillers, number words -> digits, mg units) on both sides.
"""

from __future__ import annotations

import argparse
import csv
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio_decode import SAMPLE_RATE, decode_audio

AUDIO_EXTS = (".wav", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".flac")

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_SCALES = {"hundred": 100, "thousand": 1000}
_FILLERS = {"uh", "um", "umm", "uhm", "hmm", "mm", "mmm", "hm", "ah", "er", "erm", "mhm", "uh-huh", "mm-hmm", "huh"}
_SPELLING = {"milligrams": "mg", "milligram": "mg", "percent": "%", "okay": "ok", "kinda": "kind of"}


def _words_to_digits(tokens: list[str]) -> list[str]:
    """Replace runs of English number words by their value ("five hundred" -> "500", "ten thirty" -> "10 30")."""
    out: list[str] = []
    value: int | None = None
    last = ""  # kind of the previous number word: unit, teen, tens, scale

    def flush() -> None:
        nonlocal value, last
        if value is not None:
            out.append(str(value))
        value, last = None, ""

    for tok in tokens:
        if tok in _UNITS:
            n = _UNITS[tok]
            kind = "teen" if n >= 10 else "unit"
            if value is None or last == "scale" or (last == "tens" and kind == "unit"):
                value = (value or 0) + n
            else:
                flush()
                value = n
            last = kind
        elif tok in _TENS:
            if value is None or last == "scale":
                value = (value or 0) + _TENS[tok]
            else:
                flush()
                value = _TENS[tok]
            last = "tens"
        elif tok in _SCALES and value is not None and last != "scale":
            scale = _SCALES[tok]
            value = value * scale if value < scale else (value // 1000) * 1000 + (value % 1000) * scale
            last = "scale"
        else:
            flush()
            out.append(tok)
    flush()
    return out


def normalise(text: str) -> str:
    """Lowercase, strip punctuation and fillers, number words -> digits, unit spellings unified."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"\b(do|does|did|is|are|was|were|could|would|should|have|has|had|ca|wo) n't\b", r"\1n't", t)
    t = re.sub(r"\bcan't\b", "cannot", t)
    t = re.sub(r"(\d)\s*mg\b", r"\1 mg", t)
    t = re.sub(r"(\d)\s*%", r"\1 percent", t)
    t = re.sub(r"(\d),(\d{3})\b", r"\1\2", t)  # 1,000 -> 1000
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)  # keep decimal points only
    t = re.sub(r"[^\w\s.%'-]|_", " ", t)
    t = t.replace("'", "")
    tokens: list[str] = []
    for raw in t.split():
        if raw in _FILLERS:
            continue
        for tok in raw.split("-"):
            if tok and tok not in _FILLERS:
                tokens.extend(_SPELLING.get(tok, tok).split())
    return " ".join(_words_to_digits(tokens))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one pair after :func:`normalise` (0 for two empty strings)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp))


# --- synthesising consultations from ACI-Bench -------------------------------------------------

VOICES = {
    "doctor": ("en-us", 160, 40),
    "patient": ("en-gb", 150, 65),
    "patient_guest": ("en-us", 150, 80),
}
_TURN = re.compile(r"^\[(\w+)\]\s*(.*)$")


def _clean_turn(text: str) -> str:
    """ACI-Bench text is tokenised ("do n't", "hi , brian ."): rejoin it into plain sentences."""
    t = re.sub(r"\s+([,.?!;:])", r"\1", text)
    t = re.sub(r"\b(\w+) n't\b", r"\1n't", t)
    t = re.sub(r"\s+('s|'re|'ve|'ll|'d|'m)\b", r"\1", t)
    return re.sub(r"\s+", " ", t).strip()


def _espeak(text: str, voice: str, speed: int, pitch: int) -> NDArray[np.float32]:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "turn.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), "--", text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)  # noqa: S603 - fixed argv
        return decode_audio(raw.read_bytes())


def synthesise_dialogue(dialogue: str, seconds: float = 60.0) -> tuple[NDArray[np.float32], str]:
    """Speak the first turns of a tagged dialogue until about ``seconds``; returns (samples, reference text)."""
    pieces: list[NDArray[np.float32]] = []
    texts: list[str] = []
    total = 0.0
    gap = np.zeros(int(0.35 * SAMPLE_RATE), dtype=np.float32)
    for line in dialogue.splitlines():
        m = _TURN.match(line.strip())
        if not m:
            continue
        text = _clean_turn(m.group(2))
        if not normalise(text):
            continue
        voice, speed, pitch = VOICES.get(m.group(1), VOICES["patient"])
        audio = _espeak(text, voice, speed, pitch)
        pieces += [audio, gap]
        texts.append(text)
        total += len(audio) / SAMPLE_RATE + len(gap) / SAMPLE_RATE
        if total >= seconds:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32), "\n".join(texts)


def make_from_aci(csv_path: Path, out_dir: Path, n: int, seconds: float) -> list[Path]:
    """Write ``aci_XX.wav`` + ``aci_XX.txt`` for the first ``n`` dialogues of an ACI-Bench CSV."""
    from tests_support_wav import write_wav  # type: ignore[import-not-found]  # noqa: F401 - replaced below

    raise NotImplementedError


def _write_wav(samples: NDArray[np.float32], path: Path) -> None:
    import wave

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
