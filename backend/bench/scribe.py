"""60 s of consultation audio -> draft ready, through the real pipeline (blob, job, worker handler, whisper, drafter)."""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from backend.adapters.audio.decode import encode_wav
from backend.bench._timing import summary
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import JobStatus, Role
from backend.evals.asr import SAMPLE_RATE, synthesise_dialogue
from backend.services.access import Principal
from backend.services.demo import seed_demo
from backend.services.scribe import submit_recording

TARGET_READY_S = 15.0
TARGET_RTF = 0.2
TARGET_RSS_MB = 1500.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--aci", type=Path, default=Path("../shared/data/aci-bench/valid.csv"), help="dialogues to speak"
    )
    parser.add_argument("--runs", type=int, default=3, help="jobs after the first (which pays the model load)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--model", default="", help="whisper model folder (default: the provisioned one under ./data)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    with args.aci.open(newline="", encoding="utf-8") as f:
        dialogues = [row["dialogue"] for row in csv.DictReader(f)][: args.runs + 1]
    clips = [synthesise_dialogue(d, args.seconds)[0] for d in dialogues]
    model = args.model or str(Path(Settings().data_dir, "models", "faster-whisper-base").resolve())
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp), whisper_model=model))
        seed_demo(app.stores)
        deps = app.scribe_deps()
        nurse = Principal("bench", Role.NURSE)
        ready_s, rtf = [], []
        first_s = 0.0
        for i, clip in enumerate(clips):
            t0 = time.perf_counter()
            job = submit_recording(deps, nurse, "PAT_de000001", encode_wav(clip), f"bench{i}.wav")
            message = app.queue.receive(wait_seconds=1)
            assert message is not None and message.job_id == job.job_id
            t_stt = time.perf_counter()
            app.handle_job(job.job_id)
            app.queue.ack(message)
            elapsed = time.perf_counter() - t0
            done = app.stores.jobs.get(job.job_id)
            if done.status is not JobStatus.READY:
                raise RuntimeError(f"bench job failed: {done.error}")
            if i == 0:
                first_s = elapsed
                continue
            ready_s.append(elapsed * 1000)
            rtf.append((time.perf_counter() - t_stt) / (len(clip) / SAMPLE_RATE))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready = summary(ready_s)
    rtf_median = float(np.median(rtf)) if rtf else float("nan")
    return {
        "audio_seconds": round(float(np.mean([len(c) / SAMPLE_RATE for c in clips])), 1),
        "first_job_s_incl_model_load": round(first_s, 2),
        "ready_s": {
            "median": round(ready["median_ms"] / 1000, 2),
            "p95": round(ready["p95_ms"] / 1000, 2),
            "n": ready["n"],
        },
        "pipeline_rtf_median": round(rtf_median, 3),
        "peak_rss_mb": round(rss_mb),
        "targets": {"ready_s": TARGET_READY_S, "rtf": TARGET_RTF, "rss_mb": TARGET_RSS_MB},
        "pass": ready["median_ms"] / 1000 <= TARGET_READY_S and rtf_median <= TARGET_RTF and rss_mb <= TARGET_RSS_MB,
    }
