"""One photographed prescription page -> OCR -> medication table: engine load once, then median/p95 per page."""

from __future__ import annotations

import argparse
import importlib
import io
import random
import time
from collections.abc import Callable
from typing import Any

from backend.adapters.ocr.rapidocr_engine import RapidOcrEngine
from backend.bench._timing import summary
from backend.evals._prescription_images import degrade_to_jpeg, random_medication_lines, render_prescription
from backend.formats.documents import load_document, ocr_document

TARGET_MEDIAN_MS = 3000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, help="timed runs after one warm-up")
    parser.add_argument("--seed", type=int, default=7)


def _medication_parser() -> Callable[[str], list[Any]] | None:
    # The parser is a separate module; the bench still measures OCR when it is absent or broken.
    try:
        module = importlib.import_module("backend.domain.medications")
    except Exception:
        return None
    parse = getattr(module, "parse_lines", None)
    return parse if callable(parse) else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    lines = random_medication_lines(rng, 5)
    photo = degrade_to_jpeg(render_prescription(lines, seed=args.seed), seed=args.seed)
    parse = _medication_parser()

    engine = RapidOcrEngine()
    started = time.perf_counter()
    engine.load()
    load_ms = (time.perf_counter() - started) * 1000

    medications: list[Any] = []

    def digitize() -> None:
        nonlocal medications
        document = ocr_document(load_document(photo, "bench.jpg"), engine)
        if parse is not None:
            medications = parse(document.full_text)

    digitize()  # warm-up: first-run allocations of onnxruntime
    wall_ms, cpu_ms = [], []
    for _ in range(args.runs):
        w0, c0 = time.perf_counter(), time.process_time()
        digitize()
        wall_ms.append((time.perf_counter() - w0) * 1000)
        cpu_ms.append((time.process_time() - c0) * 1000)
    timing = summary(wall_ms)
    names = [str(getattr(m, "name", m)) for m in medications]
    return {
        "page": f"{len(photo) // 1024} KB JPEG, {_size(photo)}",
        "includes_parser": parse is not None,
        "engine_load_ms": round(load_ms, 1),
        "per_page": timing,
        "cpu_ms_median": round(sorted(cpu_ms)[len(cpu_ms) // 2], 1),
        "medications_on_page": len(lines),
        "medications_parsed": len(medications) if parse is not None else "parser not available",
        "medications": ", ".join(names),
        "target_median_ms": TARGET_MEDIAN_MS,
        "pass": timing["median_ms"] <= TARGET_MEDIAN_MS,
    }


def _size(jpeg: bytes) -> str:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        return f"{image.width}x{image.height}"
