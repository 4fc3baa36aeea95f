"""Would it hold on a real recording? The scribe on consultations made noisy, reverberant, narrow-band, fast, slow,
overlapping, or spoken by two voices that are close.

``python -m backend eval robustness --aci CSV [--aci CSV ...] --n N --audio-dir DIR [--conditions a,b,...]
[--seconds S] [--roles-only] [--json]``

For each CSV, its first N consultations are spoken as ``eval scribe`` speaks them (``DIR/<csv stem>/clean``), and
each condition (``CONDITIONS``) is made from them, seeded by condition and row (``DIR/<csv stem>/<condition>``:
``aci_NN.wav`` + the sidecar with the turns' times as they now lie). Voice conditions are spoken again with other
voices. ``--seconds S`` keeps the turns that end within the first S seconds (shorter runs).

Each recording then goes through the app's pipeline exactly as ``eval scribe`` runs it (``score_consultation``:
decode, transcribe, recording checks, roles, drug-name second pass, draft). Printed per condition: word-level role
accuracy, WER, drug-name precision / recall against the reference notes, and how many recordings got each warning.
Transcripts are cached by the samples' hash (``DIR/cache``), so a second run after a change to roles or drafting
decodes nothing again (the engine is deterministic: temperature 0).

``--roles-only`` skips the recogniser: the words are timed from the true turns and only the role assignment runs
(seconds, not minutes), scored as ``backend.evals.speaker_roles`` scores it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.evals import conditions as cond
from backend.evals.asr import _espeak, write_wav

BABBLE_VOICES = (("en-gb", 165, 55), ("en-029", 150, 45), ("en-us+f2", 160, 60), ("en-gb-scotland", 155, 35))
Transform = Callable[[cond.Samples, np.random.Generator, cond.Samples], cond.Samples]


@dataclass(frozen=True)
class Condition:
    """One way a recording can differ from clean espeak speech: a transform of the clean recording, or other
    voices (tag -> espeak voice, rate, pitch) to speak the consultation in, or a speed factor or an overlap."""

    name: str
    about: str
    transform: Transform | None = None
    voices: dict[str, tuple[str, int, int]] | None = None
    speed: float = 1.0
    overlap_s: float = 0.0


def _noisy(kind: str, snr: float) -> Transform:
    def apply(x: cond.Samples, rng: np.random.Generator, babble: cond.Samples) -> cond.Samples:
        noise = {
            "white": lambda: cond.white_noise(x.size, rng),
            "pink": lambda: cond.coloured_noise(x.size, rng, 1.0),
            "brown": lambda: cond.coloured_noise(x.size, rng, 2.0),
            "babble": lambda: np.resize(np.roll(babble, int(rng.integers(0, babble.size))), x.size),
        }[kind]()
        return cond.add_noise(x, noise, snr)

    return apply


def _laptop(x: cond.Samples, rng: np.random.Generator, babble: cond.Samples) -> cond.Samples:
    room = cond.reverberate(x, 0.4, rng)
    return cond.add_noise(cond.band_pass(room, 200.0, 5000.0), cond.coloured_noise(x.size, rng, 1.0), 15.0)


def _phone(x: cond.Samples, rng: np.random.Generator, babble: cond.Samples) -> cond.Samples:
    return cond.telephone(cond.add_noise(x, cond.coloured_noise(x.size, rng, 1.0), 20.0))


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("clean", "the two espeak-ng en-us voices of eval scribe"),
        Condition("white_20", "white noise, SNR 20 dB", _noisy("white", 20.0)),
        Condition("room_10", "pink (room) noise, SNR 10 dB", _noisy("pink", 10.0)),
        Condition("fan_5", "brown (fan) noise, SNR 5 dB", _noisy("brown", 5.0)),
        Condition("babble_10", "four other voices talking, SNR 10 dB", _noisy("babble", 10.0)),
        Condition("reverb_0.5", "a room with RT60 0.5 s", lambda x, rng, b: cond.reverberate(x, 0.5, rng)),
        Condition(
            "reverb_small",
            "a small room, microphone near: RT60 0.3 s, direct sound 6 dB over the echo",
            lambda x, rng, b: cond.reverberate(x, 0.3, rng, 6.0),
        ),
        Condition(
            "reverb_far",
            "a large room, microphone far: RT60 0.8 s, direct sound level with the echo",
            lambda x, rng, b: cond.reverberate(x, 0.8, rng, 0.0),
        ),
        Condition("phone", "telephone band 300-3400 Hz, pink noise 20 dB", _phone),
        Condition("laptop", "RT60 0.4 s, 200-5000 Hz, pink noise 15 dB", _laptop),
        Condition("fast_1.15", "15 % faster (pitch up too)", speed=1.15),
        Condition("slow_0.87", "13 % slower (pitch down too)", speed=0.87),
        Condition("overlap_0.5", "each turn starts 0.5 s before the last ends", overlap_s=0.5),
        Condition(
            "close_pitch",
            "one en-us voice, pitch 45 vs 55, same rate",
            voices={"doctor": ("en-us", 155, 45), "patient": ("en-us", 155, 55), "patient_guest": ("en-us", 155, 65)},
        ),
        Condition(
            "one_voice",
            "one person speaks every line (a dictation): roles cannot be heard, only guessed",
            voices={"doctor": ("en-us", 160, 40), "patient": ("en-us", 160, 40), "patient_guest": ("en-us", 160, 40)},
        ),
        Condition(
            "us_vs_rp",
            "en-us vs en-gb-x-rp, pitch 50 both",
            voices={
                "doctor": ("en-us", 160, 50),
                "patient": ("en-gb-x-rp", 155, 50),
                "patient_guest": ("en-us", 150, 80),
            },
        ),
        Condition(
            "m3_vs_m1",
            "espeak variants en-us+m3 vs en-us+m1",
            voices={
                "doctor": ("en-us+m3", 160, 50),
                "patient": ("en-us+m1", 150, 50),
                "patient_guest": ("en-us", 150, 80),
            },
        ),
    )
}


def seed_of(condition: str, row: int) -> int:
    """The seed of one condition on one consultation: the same every run."""
    return zlib.crc32(f"{condition}:{row}".encode())


def _crop(samples: cond.Samples, side: dict[str, Any], seconds: float | None) -> tuple[cond.Samples, dict[str, Any]]:
    if not seconds:
        return samples, side
    turns = [t for t in side["turns"] if float(t["end"]) <= seconds] or side["turns"][:1]
    end = float(turns[-1]["end"]) + 0.35
    return samples[: int(end * cond.SAMPLE_RATE)], {**side, "turns": turns, "seconds": round(end, 4)}


def _babble(out: Path, dialogue: str) -> cond.Samples:
    """Other people talking (other espeak voices saying the lines of another consultation), made once."""
    wav = out / "babble.wav"
    if not wav.is_file():
        from backend.evals.asr import _clean_turn

        lines = [_clean_turn(line.split("]", 1)[-1]) for line in dialogue.splitlines() if line.strip()]
        talk = [_espeak(" ".join(lines[i::4][:12]), *v) for i, v in enumerate(BABBLE_VOICES)]
        write_wav(cond.babble(talk, max(t.size for t in talk), np.random.default_rng(7)) * 0.2, wav)
    from backend.adapters.audio.decode import decode_audio

    return decode_audio(wav.read_bytes())


def make_recordings(
    csv_path: Path, audio_dir: Path, n: int, condition: Condition, seconds: float | None = None
) -> list[Path]:
    """The consultations of ``csv_path`` under ``condition`` (made when missing); their wav paths."""
    from backend.adapters.audio.decode import decode_audio
    from backend.evals.notes import read_rows
    from backend.evals.scribe import synthesise

    root = audio_dir / csv_path.stem
    if condition.voices is not None:
        voices = condition.voices
        spoken = synthesise(
            csv_path,
            root / f"{condition.name}.spoken",
            n,
            speak=lambda t, tag: _espeak(t, *voices.get(tag, voices["patient"])),
        )
    else:
        spoken = synthesise(csv_path, root / "clean.spoken", n)
    out = root / condition.name
    out.mkdir(parents=True, exist_ok=True)
    rows = read_rows(csv_path, None)
    babble = _babble(audio_dir, rows[-1]["dialogue"]) if condition.transform is not None else np.zeros(1, np.float32)
    wavs = []
    for src in spoken:
        wav = out / src.name
        wavs.append(wav)
        if wav.is_file() and wav.with_suffix(".json").is_file():
            continue
        side = json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))
        samples, side = _crop(decode_audio(src.read_bytes()), side, seconds)
        row = int(side["source"]["row"])
        rng = np.random.default_rng(seed_of(condition.name, row))
        if condition.transform is not None:
            samples = condition.transform(samples, rng, babble)
        if condition.speed != 1.0:
            samples = cond.change_speed(samples, condition.speed)
            side["turns"] = [
                {**t, "start": t["start"] / condition.speed, "end": t["end"] / condition.speed} for t in side["turns"]
            ]
        if condition.overlap_s:
            laid = [cond.Turn(float(t["start"]), float(t["end"])) for t in side["turns"]]
            samples, placed = cond.overlap_turns(samples, laid, condition.overlap_s)
            side["turns"] = [{**t, "start": p.start, "end": p.end} for t, p in zip(side["turns"], placed, strict=True)]
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 0.95:  # keep the wav from clipping: scaling changes no ratio
            samples = samples * (0.95 / peak)
        write_wav(samples, wav)
        side["condition"] = condition.name
        wav.with_suffix(".json").write_text(json.dumps(side), encoding="utf-8")
    return wavs


class CachedTranscriber:
    """The app's transcriber with its answers kept on disk by the samples' hash: a second run decodes nothing.

    Forwards everything else (name, the model the language check uses) to the engine.
    """

    def __init__(self, engine: Any, folder: Path) -> None:
        self._engine = engine
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @staticmethod
    def _key(samples: Any, *extra: object) -> str:
        h = hashlib.sha256(np.ascontiguousarray(samples, dtype=np.float32).tobytes())  # a cache key, not security
        h.update(repr(extra).encode())
        return h.hexdigest()

    def transcribe(self, samples: Any, language: str | None = None) -> list[Any]:
        from backend.domain.models import Segment

        path = self._folder / f"{self._key(samples, language)}.json"
        if path.is_file():
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored and all("words" in s for s in stored):  # word times split segments at changes of voice
                return [Segment.model_validate(s) for s in stored]
        segments = self._engine.transcribe(samples, language)
        # A segment's words are left out of its JSON (notes store no word times): they are written here explicitly.
        rows = [{**s.model_dump(mode="json"), "words": [w.model_dump(mode="json") for w in s.words]} for s in segments]
        path.write_text(json.dumps(rows), encoding="utf-8")
        return list(segments)

    def transcribe_span(self, samples: Any, start: float, end: float, hotwords: str) -> str:
        path = self._folder / f"{self._key(samples, 'span', round(start, 3), round(end, 3), hotwords)}.txt"
        if path.is_file():
            return path.read_text(encoding="utf-8")
        text = str(self._engine.transcribe_span(samples, start, end, hotwords))
        path.write_text(text, encoding="utf-8")
        return text


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One condition's figures over its recordings (from ``eval scribe``'s totals) and its warnings' counts."""
    from backend.evals.scribe import totals

    t = totals(rows)
    warned = Counter(w for r in rows for w in dict.fromkeys(r["warnings"]))
    return {
        "consultations": t["consultations"],
        "audio_minutes": t["audio_minutes"],
        "roles": t["role_accuracy"]["audio"],
        "wer": t["wer"],
        "drug_precision": t["drugs"]["audio"]["precision"],
        "drug_recall": t["drugs"]["audio"]["recall"],
        "rouge1": t["rouge"]["audio"]["rouge1"],
        "warnings": dict(warned),
        "per_consultation": [
            {"file": r["file"], "roles": r["role_accuracy"]["audio"], "wer": r["wer"], "warnings": r["warnings"]}
            for r in rows
        ],
    }


def _roles_only(wav: Path) -> dict[str, Any]:
    from backend.evals.speaker_roles import score_recording

    return score_recording(wav, words_from_turns=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aci", type=Path, action="append", required=True, help="ACI-Bench CSV (repeat for more)")
    parser.add_argument("--n", type=int, default=4, help="consultations per CSV (its first N rows)")
    parser.add_argument("--audio-dir", type=Path, required=True, help="where the recordings are made and cached")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated: " + ", ".join(CONDITIONS))
    parser.add_argument("--seconds", type=float, default=None, help="keep the turns within the first S seconds")
    parser.add_argument("--roles-only", action="store_true", help="no recogniser: words timed from the true turns")
    parser.add_argument("--model", help="Whisper model folder (default: COPILOT_WHISPER_MODEL or provisioned)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONDITIONS]
    if unknown:
        raise SystemExit(f"unknown condition(s) {', '.join(unknown)}; known: {', '.join(CONDITIONS)}")
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed to speak the consultations (Debian/Ubuntu: apt-get install espeak-ng)")

    def recordings(c: str) -> list[Path]:  # made when the condition's turn comes: its figures print as it ends
        return [
            w for csv in args.aci for w in make_recordings(csv, args.audio_dir, args.n, CONDITIONS[c], args.seconds)
        ]

    results: dict[str, Any] = {}
    if args.roles_only:
        for c in names:
            rows = [_roles_only(w) for w in recordings(c)]
            words = sum(r["words"] for r in rows)
            warned = Counter(w for r in rows for w in dict.fromkeys(r["warnings"]))
            results[c] = {
                "roles": round(sum(r["accuracy"] * r["words"] for r in rows) / max(words, 1), 4),
                "worst": round(min(r["accuracy"] for r in rows), 4),
                "voices": [r["voices"] for r in rows],
                "warnings": dict(warned),
            }
            print(
                f"{c:<13} roles {results[c]['roles']:.3f}  worst {results[c]['worst']:.3f}  "
                f"voices {results[c]['voices']}  {dict(warned)}",
                flush=True,
            )
        return {"mode": "roles only (words timed from the turns)", "conditions": results}
    from rouge_score import rouge_scorer

    from backend.domain.drafting import draft_note
    from backend.evals.notes import _METRICS
    from backend.evals.scribe import _transcriber, score_consultation

    engine, fallback, _ = _transcriber(args.model)
    transcriber = CachedTranscriber(engine, args.audio_dir / "cache")
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    for c in names:
        results[c] = summarise([score_consultation(w, transcriber, draft_note, scorer) for w in recordings(c)])
        s = results[c]
        print(
            f"{c:<13} roles {s['roles']}  wer {s['wer']}  drugs P {s['drug_precision']} R {s['drug_recall']}  "
            f"R1 {s['rouge1']}  warnings {s['warnings']}",
            flush=True,
        )
    return {
        "engine": getattr(engine, "name", type(engine).__name__),
        "engine_fallback": fallback,
        "conditions": results,
    }
