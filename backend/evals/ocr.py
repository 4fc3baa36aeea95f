"""Character error rate and seconds per page of the offline OCR path on images with their truth text.

A data folder holds pairs ``X.png|jpg|jpeg|webp|tif|tiff|pdf`` + ``X.txt`` (the text, lines in reading order).
Both sides are compared after whitespace normalisation (every run of spaces and line breaks becomes one
space), so only characters and their order count. ``--make N --out DIR [--degrade]`` first writes N synthetic
printed prescriptions with their truth into DIR (degraded ones imitate a phone photo).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import jiwer

from backend.adapters.ocr.rapidocr_engine import RapidOcrEngine
from backend.domain.errors import UnsupportedInput
from backend.evals._prescription_images import make_samples
from backend.formats.documents import load_document, ocr_document

TARGET_CER_CLEAN = 0.02
TARGET_CER_DEGRADED = 0.08
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".pdf")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=Path, help="folder of X.png|jpg|pdf + X.txt pairs")
    parser.add_argument("--make", type=int, default=0, metavar="N", help="first generate N synthetic prescriptions")
    parser.add_argument("--out", type=Path, help="where --make writes (default: a temporary folder)")
    parser.add_argument(
        "--degrade", action="store_true", help="--make phone-photo-like images (rotated, blurred, JPEG 40)"
    )
    parser.add_argument("--target", type=float, help="CER target (default 0.02 clean, 0.08 with --degrade)")


def normalise(text: str) -> str:
    """Every run of whitespace (line breaks included) becomes one space; ends stripped."""
    return re.sub(r"\s+", " ", text).strip()


def find_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """``(image, truth)`` pairs of ``folder``, sorted by name; images without a .txt are skipped."""
    pairs = []
    for path in sorted(folder.iterdir()):
        truth = path.with_suffix(".txt")
        if path.suffix.lower() in IMAGE_SUFFIXES and truth.exists():
            pairs.append((path, truth))
    return pairs


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.images and not args.make:
        raise SystemExit("Give --images DIR (pairs of X.png + X.txt), or --make N [--out DIR] [--degrade].")
    target = args.target or (TARGET_CER_DEGRADED if args.degrade else TARGET_CER_CLEAN)
    with tempfile.TemporaryDirectory() as tmp:
        folder: Path = args.out or args.images or Path(tmp)
        if args.make:
            make_samples(args.make, folder, degrade=args.degrade)
        return evaluate_folder(folder, target)


def evaluate_folder(folder: Path, target_cer: float, engine: RapidOcrEngine | None = None) -> dict[str, Any]:
    """OCR every pair in ``folder``; CER per file and over all characters, seconds per page."""
    pairs = find_pairs(folder)
    if not pairs:
        raise SystemExit(f"No image + .txt pairs in {folder}.")
    engine = engine or RapidOcrEngine()
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    rows: list[dict[str, Any]] = []
    truths: list[str] = []
    hyps: list[str] = []
    page_seconds: list[float] = []
    per_file: list[float] = []
    for image_path, truth_path in pairs:
        truth = normalise(truth_path.read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        try:
            document = ocr_document(load_document(image_path.read_bytes(), image_path.name), engine)
        except UnsupportedInput as e:
            rows.append({"file": image_path.name, "error": e.message})
            continue
        seconds = time.perf_counter() - t0
        hyp = normalise(document.full_text)
        truths.append(truth)
        hyps.append(hyp)
        page_seconds.append(seconds / len(document.pages))
        per_file.append(float(jiwer.cer(truth, hyp)))
        rows.append({"file": image_path.name, "cer": round(per_file[-1], 4), "s_per_page": round(seconds, 3)})
    cer = float(jiwer.cer(truths, hyps)) if truths else 1.0  # corpus CER: all edits / all truth characters
    return {
        "folder": str(folder),
        "files": len(pairs),
        "failed": sum(1 for r in rows if "error" in r),
        "cer": round(cer, 4),
        "cer_max": round(max(per_file), 4) if per_file else None,
        "s_per_page_median": round(statistics.median(page_seconds), 3) if page_seconds else None,
        "s_per_page_max": round(max(page_seconds), 3) if page_seconds else None,
        "engine_load_s": round(load_s, 2),
        "target_cer": target_cer,
        "pass": cer <= target_cer and all("cer" in r for r in rows),
        "rows": rows,
    }
