"""Consultation audio -> draft ready, through the real pipeline (blob, job, worker handler, whisper, drafter).

By default 60 s excerpts spoken from ACI-Bench; ``--audio FILE`` submits one recording instead (a 10-minute
consultation: ``--audio TEN.wav --runs 1 --target-ready-s 90``). The first job pays the model load (cold: what
the first nurse after a restart waits for); the jobs after it reuse the loaded model (warm: every other nurse).
Each job's CPU-seconds (all threads of this process, submit to draft) are printed beside its wall time, since
wall time on a shared machine says more about the neighbours than about the code.
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from backend.adapters.audio.decode import decode_audio, encode_wav
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
    parser.add_argument("--audio", type=Path, help="submit this recording for every job instead of spoken excerpts")
    parser.add_argument(
        "--target-ready-s", type=float, default=TARGET_READY_S, help="the warm draft's target (60 s audio: 15)"
    )
    parser.add_argument("--model", default="", help="whisper model folder (default: the provisioned one under ./data)")
    parser.add_argument(
        "--whisper-parallel",
        type=int,
        default=None,
        help="clips decoded at once (default: COPILOT_WHISPER_PARALLEL); 1 = one clip at a time on all cores",
    )


def _recordings(args: argparse.Namespace) -> list[bytes]:
    """What each job submits: the given file every time, or one spoken excerpt per job (the first cold)."""
    if args.audio:
        return [args.audio.read_bytes()] * (args.runs + 1)
    with args.aci.open(newline="", encoding="utf-8") as f:
        dialogues = [row["dialogue"] for row in csv.DictReader(f)][: args.runs + 1]
    return [encode_wav(synthesise_dialogue(d, args.seconds)[0]) for d in dialogues]


def run(args: argparse.Namespace) -> dict[str, Any]:
    recordings = _recordings(args)
    seconds = [len(decode_audio(r)) / SAMPLE_RATE for r in recordings]
    model = args.model or str(Path(Settings().data_dir, "models", "faster-whisper-base").resolve())
    ready_s: list[float] = []
    cpu_s: list[float] = []
    rtf: list[float] = []
    first = {"s": 0.0, "cpu_s": 0.0}
    parallel = args.whisper_parallel if args.whisper_parallel is not None else Settings().whisper_parallel
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp), whisper_model=model, whisper_parallel=parallel))
        seed_demo(app.stores)
        deps = app.scribe_deps()
        nurse = Principal("bench", Role.NURSE)
        for i, recording in enumerate(recordings):
            t0, c0 = time.perf_counter(), time.process_time()
            job = submit_recording(deps, nurse, "PAT_de000001", recording, f"bench{i}.wav")
            message = app.queue.receive(wait_seconds=1)
            assert message is not None and message.job_id == job.job_id
            t_stt = time.perf_counter()
            app.handle_job(job.job_id)
            app.queue.ack(message)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            done = app.stores.jobs.get(job.job_id)
            if done.status is not JobStatus.READY:
                raise RuntimeError(f"bench job failed: {done.error}")
            if i == 0:
                first = {"s": elapsed, "cpu_s": cpu}
                continue
            ready_s.append(elapsed * 1000)
            cpu_s.append(cpu)
            rtf.append((time.perf_counter() - t_stt) / seconds[i])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready = summary(ready_s) if ready_s else {"median_ms": float("nan"), "p95_ms": float("nan"), "n": 0}
    rtf_median = float(np.median(rtf)) if rtf else float("nan")
    return {
        "audio_seconds": round(float(np.mean(seconds)), 1),
        "whisper_parallel": parallel,
        "first_job_s_incl_model_load": round(first["s"], 2),
        "first_job_cpu_s": round(first["cpu_s"], 1),
        "ready_s": {
            "median": round(ready["median_ms"] / 1000, 2),
            "p95": round(ready["p95_ms"] / 1000, 2),
            "n": ready["n"],
        },
        "ready_cpu_s_median": round(float(np.median(cpu_s)), 1) if cpu_s else None,
        "pipeline_rtf_median": round(rtf_median, 3),
        "peak_rss_mb": round(rss_mb),
        "targets": {"ready_s": args.target_ready_s, "rtf": TARGET_RTF, "rss_mb": TARGET_RSS_MB},
        "pass": ready["median_ms"] / 1000 <= args.target_ready_s
        and rtf_median <= TARGET_RTF
        and rss_mb <= TARGET_RSS_MB,
    }
