"""Speech-to-text quality and speed: WER and real-time factor on pairs X.wav + X.txt (or X.json).

``python -m backend eval asr --audio-dir DIR`` scores every ``X.<audio>`` that has an ``X.txt`` beside it, or
the ``X.json`` sidecar of a whole consultation made by ``eval scribe`` (its spoken turns are the reference).
``--make-from-aci CSV --n 10`` first synthesises N ~60 s consultation excerpts from ACI-Bench dialogues
with espeak-ng (doctor and patient in different voices) into DIR, then scores them.
WER is computed after normalisation (case, punctuation, fillers, number words and ordinals -> digits, mg units,
contractions spelled out, one spelling per word) applied alike to both sides.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from numpy.typing import NDArray

from backend.adapters.audio.decode import SAMPLE_RATE, decode_audio

AUDIO_EXTS = (".wav", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".flac")

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
_UNITS = {w: i for i, w in enumerate(_NUMBER_WORDS.split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}  # noqa: SIM905
_SCALES = {"hundred": 100, "thousand": 1000}
_FILLERS = {"uh", "um", "umm", "uhm", "hmm", "mm", "mmm", "hm", "ah", "er", "erm", "mhm", "uh-huh", "mm-hmm", "huh"}
# One spelling per word where English allows several, applied after punctuation is gone (so "dr." is "dr").
_SPELLING = {
    "milligrams": "mg",
    "milligram": "mg",
    "percent": "%",
    "okay": "ok",
    "alright": "all right",
    "kinda": "kind of",
    "sorta": "sort of",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "cannot": "can not",
    "dr": "doctor",
    "mr": "mister",
    "mrs": "missus",
    # British -> American, for the words a consultation is likely to contain
    "anaemia": "anemia",
    "anaemic": "anemic",
    "haemoglobin": "hemoglobin",
    "oedema": "edema",
    "oesophagus": "esophagus",
    "oesophagitis": "esophagitis",
    "paediatric": "pediatric",
    "paediatrician": "pediatrician",
    "tumour": "tumor",
    "tumours": "tumors",
    "litre": "liter",
    "litres": "liters",
    "centre": "center",
    "behaviour": "behavior",
    "colour": "color",
    "favourite": "favorite",
    "dietician": "dietitian",
}
# Contractions are spelled out, as both spoken forms are the same words ("I've been" == "I have been").
# Irregular ones first. A lone "'s" stays one word ("that's" -> "thats"): is, has or possessive cannot be told
# apart, and spelling it "is" turned "the lab's" / "the labs" (the same sounds) into two errors.
_CONTRACTIONS = (
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"),
    (r"\blet's\b", "let us"),
    (r"\by'all\b", "you all"),
    (r"\bma'am\b", "madam"),
    (r"'d (been|gone|done|had)\b", r" had \1"),
    (r"'s (been|got|gone)\b", r" has \1"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'m\b", " am"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"(\d)'s\b", r"\1s"),  # "the 1990's" -> "the 1990s"
)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80,
    "ninetieth": 90, "hundredth": 100,
}  # fmt: skip


def _ordinal(n: int) -> str:
    """21 -> "21st", 12 -> "12th" (the way digits spell an ordinal)."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _words_to_digits(tokens: list[str]) -> list[str]:
    """Replace runs of English number words by their value ("five hundred" -> "500", "ten thirty" -> "10 30").

    Ordinals become digits too ("twenty first" -> "21st", "third" -> "3rd"). "a hundred" is 100, "and" inside
    a number is dropped ("a hundred and twenty" -> "120"), "one point five" -> "1.5"; "|" marks a punctuation boundary that a number never crosses.
    """
    out: list[str] = []
    value: int | None = None
    last = ""  # kind of the previous number word: unit, teen, tens, scale

    def flush() -> None:
        nonlocal value, last
        if value is not None:
            out.append(str(value))
        value, last = None, ""

    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == "a" and nxt in _SCALES and value is None:
            value, last = 1, "unit"
        elif tok == "and" and last == "scale" and (nxt in _UNITS or nxt in _TENS or nxt in _ORDINALS):
            continue
        elif tok in _UNITS:
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
        elif tok in _ORDINALS:
            n = _ORDINALS[tok]
            if n == 100 and value is not None and last != "scale" and value < 100:
                n, value = value * 100, None  # "two hundredth"
            elif value is not None and (last == "scale" or (last == "tens" and n < 10)):
                n, value = value + n, None  # "twenty first", "a hundred and third"
            flush()
            out.append(_ordinal(n))
        else:
            flush()
            out.append(tok)
    flush()
    # "1 point 5" -> "1.5" (Whisper writes decimals as digits)
    joined = re.sub(r"\b(\d+) point (\d)\b", r"\1.\2", " ".join(out))
    return [t for t in joined.split() if t != "|"]


def normalise(text: str) -> str:
    """Lowercase, strip punctuation and fillers, number words -> digits, one spelling per word.

    In the spirit of Whisper's English text normaliser (reimplemented, smaller): contractions spelled out
    ("I've" -> "i have", "don't" -> "do not"), "alright" -> "all right", "gonna" -> "going to", titles
    ("Dr." -> "doctor"), a few British spellings -> American, ordinals -> "21st". Applied alike to
    reference and hypothesis, so that only words that sound different count as errors.
    """
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"\b(\w+) n't\b", r"\1n't", t)  # tokenised text (ACI-Bench): "do n't", "ca n't"
    t = re.sub(r"\b(\w+) ('s|'re|'ve|'ll|'d|'m)\b", r"\1\2", t)
    t = re.sub(r"\b(gon|wan|got) (na|ta)\b", r"\1\2", t)  # "gon na" -> "gonna"
    for pattern, replacement in _CONTRACTIONS:
        t = re.sub(pattern, replacement, t)
    t = re.sub(r"(\d)\s*mg\b", r"\1 mg", t)
    t = re.sub(r"(\d)\s*%", r"\1 percent", t)
    t = re.sub(r"(\d),(\d{3})\b", r"\1\2", t)  # 1,000 -> 1000
    t = t.replace("/", " slash ")  # speech says "slash" (120/80, dates): both spellings meet there
    t = re.sub(r"(?<!\d)\.|\.(?!\d)|[,;:!?]", " | ", t)  # keep decimal points; punctuation ends a number
    t = re.sub(r"[^\w\s.%'|-]|_", " ", t)
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

# Both speakers use espeak's en-us voice at different pitch and rate: whisper-base hears espeak's en-gb voice
# far worse (WER 0.135 vs 0.103 on the same 5 valid dialogues), which measures espeak, not the scribe.
VOICES = {
    "doctor": ("en-us", 160, 40),
    "patient": ("en-us", 150, 70),
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


@dataclass(frozen=True)
class SpokenTurn:
    """One synthesised turn: its dialogue tag ("doctor", "patient", "patient_guest" ...), times and text."""

    tag: str
    start: float
    end: float
    text: str


Speak = Callable[[str, str], NDArray[np.float32]]  # (text, tag) -> 16 kHz samples


def speak_espeak(text: str, tag: str) -> NDArray[np.float32]:
    """Say ``text`` in the voice of ``tag`` (unknown tags speak as the patient)."""
    voice, speed, pitch = VOICES.get(tag, VOICES["patient"])
    return _espeak(text, voice, speed, pitch)


def speak_turns(
    dialogue: str, seconds: float | None = None, speak: Speak = speak_espeak, gap_s: float = 0.35
) -> tuple[NDArray[np.float32], list[SpokenTurn]]:
    """Speak the turns of a tagged ACI-Bench dialogue (all of them, or until about ``seconds``).

    Each turn is rejoined first (punctuation attached, so espeak does not say "dot") and turns that normalise
    to nothing are skipped; a silence of ``gap_s`` follows every turn. Returns the samples and, per turn,
    its tag, start and end in seconds within those samples, and the text spoken.
    """
    pieces: list[NDArray[np.float32]] = []
    turns: list[SpokenTurn] = []
    clock = 0.0
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    tag: str | None = None
    for line in dialogue.splitlines():
        m = _TURN.match(line.strip())
        # A line without a tag goes on with the speaker before it (a few ACI-Bench turns span two lines).
        if m:
            tag, said = m.group(1), m.group(2)
        elif tag is not None and line.strip():
            said = line.strip()
        else:
            continue
        text = _clean_turn(said)
        if not normalise(text):
            continue
        audio = speak(text, tag)
        end = clock + len(audio) / SAMPLE_RATE
        turns.append(SpokenTurn(tag, round(clock, 4), round(end, 4), text))
        pieces += [audio, gap]
        clock = end + len(gap) / SAMPLE_RATE
        if seconds is not None and clock >= seconds:
            break
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), turns


def synthesise_dialogue(dialogue: str, seconds: float = 60.0) -> tuple[NDArray[np.float32], str]:
    """Speak the first turns of a tagged dialogue until about ``seconds``; returns (samples, reference text)."""
    samples, turns = speak_turns(dialogue, seconds)
    return samples, "\n".join(t.text for t in turns)


def write_wav(samples: NDArray[np.float32], path: Path) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def make_from_aci(csv_path: Path, out_dir: Path, n: int, seconds: float = 60.0) -> list[Path]:
    """Write ``aci_NN.wav`` + ``aci_NN.txt`` for the first ``n`` dialogues of an ACI-Bench CSV."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed to synthesise speech (Debian/Ubuntu: apt-get install espeak-ng)")
    out_dir.mkdir(parents=True, exist_ok=True)
    csv.field_size_limit(10_000_000)
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("dialogue")][:n]
    written = []
    for i, row in enumerate(rows):
        samples, reference = synthesise_dialogue(row["dialogue"], seconds)
        wav = out_dir / f"aci_{i:02d}.wav"
        write_wav(samples, wav)
        wav.with_suffix(".txt").write_text(reference + "\n", encoding="utf-8")
        written.append(wav)
    return written


# --- scoring ----------------------------------------------------------------------------------


def pairs(audio_dir: Path) -> list[tuple[Path, Path]]:
    """(audio, reference) pairs of a folder, sorted by name: ``X.txt``, else the ``X.json`` of ``eval scribe``."""
    found = []
    for audio in sorted(audio_dir.iterdir()):
        if audio.suffix.lower() not in AUDIO_EXTS:
            continue
        refs = [r for r in (audio.with_suffix(".txt"), audio.with_suffix(".json")) if r.is_file()]
        if refs:
            found.append((audio, refs[0]))
    return found


def reference_text(path: Path) -> str:
    """What was said: a ``.txt`` as it is, or the spoken turns of an ``eval scribe`` sidecar, one a line.

    So the whole consultations ``eval scribe`` made are scored by ``eval asr --audio-dir`` without speaking
    them again.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".json":
        return text
    return "\n".join(str(turn["text"]) for turn in json.loads(text)["turns"])


def _build(args: argparse.Namespace) -> tuple[Any, float]:
    started = time.perf_counter()
    if args.engine == "sphinx":
        from backend.adapters.speech.sphinx_stt import SphinxTranscriber

        return SphinxTranscriber(), time.perf_counter() - started
    from backend.adapters.speech.whisper_stt import WhisperTranscriber, resolve_model
    from backend.config import Settings

    settings = Settings()
    model = resolve_model(args.model or settings.whisper_model, settings.data_dir)
    options: dict[str, Any] = {"prompt_mode": args.prompt_mode} if args.prompt_mode else {}
    if args.condition is not None:
        options["condition_on_previous_text"] = args.condition
    engine = WhisperTranscriber(model, beam_size=args.beam, **options)
    return engine, time.perf_counter() - started


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio-dir", type=Path, required=True, help="folder of X.wav (or mp3, ogg ...) + X.txt pairs")
    parser.add_argument(
        "--make-from-aci", type=Path, metavar="CSV", help="first synthesise clips from this ACI-Bench CSV"
    )
    parser.add_argument("--n", type=int, default=10, help="how many dialogues to synthesise (with --make-from-aci)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each synthesised excerpt")
    parser.add_argument("--engine", choices=("whisper", "sphinx"), default="whisper")
    parser.add_argument(
        "--model", help="Whisper model folder or hub id (default: COPILOT_WHISPER_MODEL or provisioned)"
    )
    parser.add_argument("--beam", type=int, default=5, help="Whisper beam size (the app's default is 5)")
    parser.add_argument(
        "--prompt-mode",
        choices=("initial", "hotwords", "none"),
        help="how the drug list is given to Whisper (default: the app's, see WhisperTranscriber)",
    )
    parser.add_argument(
        "--condition",
        action=argparse.BooleanOptionalAction,
        help="prompt each window with the previous window's text (default: the app's, see WhisperTranscriber)",
    )
    parser.add_argument("--partial", action="store_true", help="score the live fast path (transcribe_partial)")
    parser.add_argument("--limit", type=int, default=0, help="score at most this many files (0 = all)")
    parser.add_argument("--show", action="store_true", help="print reference and hypothesis of each file")
    parser.add_argument(
        "--save-text",
        type=Path,
        metavar="DIR",
        help="write each transcript to DIR/X.txt (to check that a change leaves the text as it was)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.make_from_aci:
        make_from_aci(args.make_from_aci, args.audio_dir, args.n, args.seconds)
    found = pairs(args.audio_dir)[: args.limit or None]
    if not found:
        raise SystemExit(f"no audio + .txt pairs in {args.audio_dir}")
    engine, load_s = _build(args)
    rows: list[dict[str, Any]] = []
    refs: list[str] = []
    hyps: list[str] = []
    total_audio = total_proc = total_cpu = 0.0
    for audio_path, ref_path in found:
        samples = decode_audio(audio_path.read_bytes())
        started, cpu_started = time.perf_counter(), time.process_time()
        fn = engine.transcribe_partial if args.partial else engine.transcribe
        hypothesis = " ".join(s.text for s in fn(samples))
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        total_cpu += cpu
        reference = reference_text(ref_path)
        seconds = len(samples) / SAMPLE_RATE
        refs.append(normalise(reference))
        hyps.append(normalise(hypothesis))
        total_audio += seconds
        total_proc += took
        rows.append(
            {
                "file": audio_path.name,
                "seconds": round(seconds, 1),
                "wer": round(wer(reference, hypothesis), 4),
                "rtf": round(took / seconds, 3) if seconds else None,
                "cpu_s": round(cpu, 2),
            }
        )
        if args.show:
            print(f"== {audio_path.name}\nREF: {refs[-1]}\nHYP: {hyps[-1]}")
        if args.save_text:
            args.save_text.mkdir(parents=True, exist_ok=True)
            (args.save_text / f"{audio_path.stem}.txt").write_text(hypothesis + "\n", encoding="utf-8")
    overall = jiwer.wer([r or "<empty>" for r in refs], hyps)
    return {
        "engine": getattr(engine, "name", args.engine),
        "files": len(rows),
        "audio_seconds": round(total_audio, 1),
        "wer": round(float(overall), 4),
        "rtf": round(total_proc / total_audio, 3) if total_audio else None,
        # CPU-seconds per audio second (all threads): comparable across busy and idle machines.
        "cpu_per_audio_second": round(total_cpu / total_audio, 3) if total_audio else None,
        "model_load_seconds": round(load_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "beam": args.beam if args.engine == "whisper" else None,
        "prompt_mode": getattr(engine, "prompt_mode", None),
        "per_file": rows,
    }
