"""A clinic's day on one machine: consultations and prescriptions arriving while users browse; waits and latencies.

The deployment's three processes: this one plays the pages (10 users reading through the services, as the
Streamlit server does), a REST API process (``uvicorn``) answers the same users' API reads over HTTP, and a
worker process (``python -m backend.worker``) does the heavy work (Whisper, OCR). The day is time-compressed
(``--day-minutes``); ``--scale`` shrinks the counts for a short run. Everything random is seeded.

Reported: queue wait (upload -> the worker starts it), time to draft and time to reading (upload -> ready),
page-read and API-read latency p50 / p95 while the worker is busy (and while idle), against the targets.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import subprocess  # nosec B404 - the bench starts this project's own worker and API processes
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET_PAGE_P95_S = 2.0
TARGET_API_P95_MS = 300.0
TARGET_DRAFT_S = 120.0
DAY_S = 8 * 3600  # the clinic's day being replayed
NURSE, DOCTOR = "nurse", "doctor"  # demo accounts
PAGE_ACTIONS = ("timeline", "patient_list", "dashboard")
API_ACTIONS = ("api_patients", "api_timeline")


@dataclass(frozen=True)
class Arrival:
    """One upload of the day, ``at_s`` seconds after the replay starts."""

    at_s: float
    kind: str  # "consultation" | "prescription"
    index: int  # n-th of its kind
    patient: int  # index into the demo patients


@dataclass
class Sample:
    """One read by a browsing user: when it started (replay seconds), what, how long, and whether work was pending."""

    at_s: float
    action: str
    ms: float
    busy: bool
    ok: bool = True


@dataclass
class Tracked:
    """One submitted job as the replay saw it (replay seconds)."""

    kind: str
    job_id: str
    submitted_s: float
    started_s: float | None = None
    done_s: float | None = None
    status: str = "queued"
    error: str | None = None


@dataclass
class DayLog:
    samples: list[Sample] = field(default_factory=list)
    jobs: list[Tracked] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def schedule(consultations: int, prescriptions: int, day_s: float, seed: int) -> list[Arrival]:
    """Arrivals spread evenly over the (compressed) day, each jittered by up to half a slot; sorted by time.

    Args:
        consultations: recordings to upload.
        prescriptions: scanned prescriptions to upload.
        day_s: the replay's length in seconds; every arrival is inside [0, day_s).
        seed: the same seed gives the same day.
    """
    rng = random.Random(seed)
    out: list[Arrival] = []
    for kind, count in (("consultation", consultations), ("prescription", prescriptions)):
        slot = day_s / max(count, 1)
        for i in range(count):
            at = (i + 0.5) * slot + rng.uniform(-0.5, 0.5) * slot
            out.append(Arrival(min(max(at, 0.0), day_s * 0.999), kind, i, rng.randrange(20)))
    return sorted(out, key=lambda a: (a.at_s, a.kind, a.index))


def scaled(count: int, scale: float) -> int:
    """``count`` × ``scale``, at least one."""
    return max(1, round(count * scale))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stats(values: list[float], digits: int = 1) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "p50": round(_pct(values, 0.5), digits),
        "p95": round(_pct(values, 0.95), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def report(log: DayLog, settings: dict[str, Any]) -> dict[str, Any]:
    """The figures of a replayed day (pure: a test can feed it a made-up log)."""
    by_kind = {k: [j for j in log.jobs if j.kind == k] for k in ("consultation", "prescription")}
    waits = [j.started_s - j.submitted_s for j in log.jobs if j.started_s is not None]

    def ready(kind: str) -> list[float]:
        return [j.done_s - j.submitted_s for j in by_kind[kind] if j.done_s is not None and j.status != "failed"]

    def reads(actions: tuple[str, ...], busy: bool) -> list[float]:
        return [s.ms for s in log.samples if s.action in actions and s.busy is busy and s.ok]

    page_busy, api_busy = reads(PAGE_ACTIONS, True), reads(API_ACTIONS, True)
    drafts = ready("consultation")
    unfinished = [j for j in log.jobs if j.done_s is None or j.status == "failed"]
    result: dict[str, Any] = {
        "day": settings,
        "queue_wait_s": _stats(waits),
        "time_to_draft_s": _stats(drafts),
        "time_to_reading_s": _stats(ready("prescription")),
        "not_ready_or_failed": len(unfinished),
        "page_read_ms_busy": _stats(page_busy),
        "api_read_ms_busy": _stats(api_busy),
        "page_read_ms_idle": _stats(reads(PAGE_ACTIONS, False)),
        "api_read_ms_idle": _stats(reads(API_ACTIONS, False)),
        "read_errors": sum(1 for s in log.samples if not s.ok),
        "per_action_ms_busy": {
            a: _stats([s.ms for s in log.samples if s.action == a and s.busy and s.ok])
            for a in PAGE_ACTIONS + API_ACTIONS
        },
        "targets": {"page_p95_s": TARGET_PAGE_P95_S, "api_p95_ms": TARGET_API_P95_MS, "draft_max_s": TARGET_DRAFT_S},
    }
    result["pass"] = {
        "page_p95": bool(page_busy) and _pct(page_busy, 0.95) <= TARGET_PAGE_P95_S * 1000,
        "api_p95": bool(api_busy) and _pct(api_busy, 0.95) <= TARGET_API_P95_MS,
        "every_draft_within_2_min": not unfinished and all(d <= TARGET_DRAFT_S for d in drafts),
    }
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--consultations", type=int, default=40, help="recordings in the full day")
    parser.add_argument("--prescriptions", type=int, default=40, help="scanned prescriptions in the full day")
    parser.add_argument("--audio-minutes", type=float, default=8.0, help="length of each consultation")
    parser.add_argument("--day-minutes", type=float, default=60.0, help="wall minutes the full day is replayed in")
    parser.add_argument("--scale", type=float, default=1.0, help="counts and day length × this (0.1: a short run)")
    parser.add_argument("--users", type=int, default=10, help="users browsing at once")
    parser.add_argument("--think-s", type=float, default=2.0, help="mean pause between a user's reads")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--aci", type=Path, default=Path("../shared/data/aci-bench/valid.csv"), help="dialogues")
    parser.add_argument("--audio-dir", type=Path, default=None, help="keep the spoken consultations here (reused)")
    parser.add_argument("--distinct-audio", type=int, default=4, help="different recordings, cycled")
    parser.add_argument("--worker-nice", type=int, default=0, help="run the worker process at this niceness")
    parser.add_argument("--model", default="", help="whisper model folder (default: the provisioned one under ./data)")
    parser.add_argument("--drain-minutes", type=float, default=15.0, help="after the day, wait this long for jobs")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _recordings(args: argparse.Namespace, count: int) -> list[bytes]:
    """``count`` spoken consultations of ``--audio-minutes`` (espeak-ng), as WAV bytes; cached in --audio-dir."""
    from backend.adapters.audio.decode import encode_wav
    from backend.evals.asr import synthesise_dialogue

    folder = args.audio_dir or Path(tempfile.gettempdir()) / "copilot-clinic-day-audio"
    folder.mkdir(parents=True, exist_ok=True)
    with args.aci.open(newline="", encoding="utf-8") as f:
        dialogues = [row["dialogue"] for row in csv.DictReader(f)]
    out = []
    for i in range(count):
        path = folder / f"consultation-{i}-{args.audio_minutes:g}min.wav"
        if not path.exists():
            samples, _ = synthesise_dialogue(dialogues[i % len(dialogues)], args.audio_minutes * 60)
            path.write_bytes(encode_wav(samples))
        out.append(path.read_bytes())
    return out


def _prescription(index: int, seed: int) -> bytes:
    from backend.evals._prescription_images import degrade_to_jpeg, random_medication_lines, render_prescription

    rng = random.Random(seed * 1000 + index)
    page = render_prescription(random_medication_lines(rng, rng.randint(3, 6)), seed=seed + index)
    return degrade_to_jpeg(page, seed=seed + index)


def _child_env(data_dir: Path, model: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env.update(
        COPILOT_DATA_DIR=str(data_dir),
        COPILOT_STORE="sqlite",
        COPILOT_BLOBS="local",
        COPILOT_QUEUE="sqlite",
        COPILOT_LLM="offline",
        COPILOT_STT="whisper",
        COPILOT_OCR="rapidocr",
        COPILOT_ENCRYPTION="off",
        COPILOT_KEYRING="0",
        COPILOT_WHISPER_MODEL=model,
        COPILOT_API_RATE_PER_MINUTE="1000000",
    )
    return env


def bench_api() -> Any:
    """The API of the bench's API process: no in-process worker (the worker is its own process)."""
    from backend.api.app import create_app

    return create_app(start_worker=False)


def _wait_http(url: str, stop_at: float) -> None:
    while time.monotonic() < stop_at:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310  # nosec B310 - the bench's own loopback server
                if r.status == 200:
                    return
        except OSError:
            pass
        threading.Event().wait(0.2)
    raise RuntimeError(f"the API did not come up at {url}")


def page_reads(app: Any, action: str, principal: Any, pid: str) -> dict[str, Any]:
    """What a page of ``action`` reads through the services, as the page reads it: in the clinic's zone.

    Returned (named by what was read) so a test can see the days a person would; the bench itself only times it.
    """
    from backend.domain.models import now_ms
    from backend.services.cohort import recent_anomalies
    from backend.services.patients import list_patients
    from backend.services.timeline import active_medications, build_timeline, dashboard_summary

    stores, tz = app.stores, app.settings.clinic_tz()
    if action == "timeline":  # what the timeline page reads
        return {
            "timeline": build_timeline(stores, principal, pid, None, None, None, None, 20, app.episodes().episodes, tz),
            "medications": active_medications(stores, principal, pid, tz),
        }
    if action == "patient_list":
        return {"patients": list_patients(stores, principal, None, 25)}
    return {  # the dashboard
        "dashboard": dashboard_summary(stores, principal, since_ms=now_ms() - 7 * 86_400_000),
        "anomalies": recent_anomalies(stores, principal, days=7, tz=tz),
    }


class _Users:
    """``n`` users browsing until ``stop``: page reads through the services, API reads over HTTP."""

    def __init__(self, app: Any, api_url: str, tokens: dict[str, str], patients: list[str], log: DayLog) -> None:
        self.app, self.api_url, self.tokens, self.patients, self.log = app, api_url, tokens, patients, log
        self.pending: set[str] = set()  # job ids submitted and not finished (the worker is busy)

    def busy(self) -> bool:
        with self.log.lock:
            return bool(self.pending)

    def _page(self, action: str, principal: Any, pid: str) -> None:
        page_reads(self.app, action, principal, pid)

    def _api(self, action: str, who: str, pid: str) -> None:
        path = "/v1/patients?limit=25" if action == "api_patients" else f"/v1/patients/{pid}/timeline?limit=20"
        url, auth = self.api_url + path, {"Authorization": f"Bearer {self.tokens[who]}"}
        request = urllib.request.Request(url, headers=auth)  # noqa: S310 - loopback http only
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310  # nosec B310 - the bench's own loopback server
            r.read()

    def run(self, user: int, stop: threading.Event, t0: float, think_s: float, seed: int) -> None:
        from backend.domain.models import Role
        from backend.services.access import Principal

        rng = random.Random(seed * 7919 + user)
        who = DOCTOR if user % 2 else NURSE
        principal = Principal(who, Role.DOCTOR if who == DOCTOR else Role.NURSE)
        actions = PAGE_ACTIONS + API_ACTIONS if who == DOCTOR else ("timeline", "patient_list", *API_ACTIONS)
        while not stop.wait(rng.expovariate(1 / think_s)):
            action, pid = rng.choice(actions), rng.choice(self.patients)
            busy, started = self.busy(), time.perf_counter()
            ok = True
            try:
                self._page(action, principal, pid) if action in PAGE_ACTIONS else self._api(action, who, pid)
            except Exception:  # a failed read is counted, not hidden; the day goes on
                ok = False
            ms = (time.perf_counter() - started) * 1000
            with self.log.lock:
                self.log.samples.append(Sample(started - t0, action, ms, busy, ok))


def _watch(app: Any, users: _Users, log: DayLog, stop: threading.Event, t0: float) -> None:
    """Follow every submitted job: first seen running, and its finish (from the job row's own time)."""
    from backend.domain.models import JobStatus

    epoch_t0 = time.time() - (time.perf_counter() - t0)
    while not stop.wait(0.25):
        with log.lock:
            open_jobs = [j for j in log.jobs if j.done_s is None]
        for tracked in open_jobs:
            job = app.stores.jobs.get(tracked.job_id)
            now = time.perf_counter() - t0
            if job.status is not JobStatus.QUEUED and tracked.started_s is None:
                tracked.started_s = now
            if job.status in (JobStatus.READY, JobStatus.FAILED):
                tracked.started_s = tracked.started_s if tracked.started_s is not None else now
                tracked.done_s = job.updated_at / 1000 - epoch_t0
                tracked.status, tracked.error = job.status.value, job.error
                with log.lock:
                    users.pending.discard(tracked.job_id)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from backend.bootstrap import build_app
    from backend.config import Settings
    from backend.domain.models import Role
    from backend.services import api_tokens
    from backend.services.access import Principal
    from backend.services.demo import demo_patient_id, seed_demo
    from backend.services.document_jobs import submit_document
    from backend.services.scribe import submit_recording

    consultations, prescriptions = scaled(args.consultations, args.scale), scaled(args.prescriptions, args.scale)
    day_s = args.day_minutes * 60 * args.scale
    arrivals = schedule(consultations, prescriptions, day_s, args.seed)
    audio = _recordings(args, min(args.distinct_audio, consultations))
    model = args.model or str(Path(Settings().data_dir, "models", "faster-whisper-base").resolve())
    log = DayLog()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = _child_env(data_dir, model)
        options: dict[str, Any] = {"store": "sqlite", "blobs": "local", "queue": "sqlite", "llm": "offline"}
        app = build_app(Settings(data_dir=data_dir, whisper_model=model, encryption="off", keyring=False, **options))
        seed_demo(app.stores)
        patients = [demo_patient_id(i) for i in range(1, 21)]
        tokens = {u: api_tokens.create_token(app.stores, None, u, days=1).token for u in (NURSE, DOCTOR)}
        port = _free_port()
        api = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed argv of this interpreter
            [sys.executable, "-m", "uvicorn", "backend.bench.clinic_day:bench_api", "--factory", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        nice = args.worker_nice
        worker = subprocess.Popen(  # nosec B603 - fixed argv of this interpreter
            [sys.executable, "-m", "backend.worker", "--wait", "1", "--heartbeat", "20", "--visibility", "120"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        try:
            api_url = f"http://127.0.0.1:{port}"
            _wait_http(api_url + "/v1/health", time.monotonic() + 120)
            users = _Users(app, api_url, tokens, patients, log)
            nurse = Principal(NURSE, Role.NURSE)
            scribe_deps, digitize_deps = app.scribe_deps(), app.digitize_deps()
            stop_users, stop_watch = threading.Event(), threading.Event()
            t0 = time.perf_counter()
            threads = [
                threading.Thread(target=users.run, args=(u, stop_users, t0, args.think_s, args.seed), daemon=True)
                for u in range(args.users)
            ]
            threads.append(threading.Thread(target=_watch, args=(app, users, log, stop_watch, t0), daemon=True))
            for t in threads:
                t.start()
            pace = threading.Event()
            for a in arrivals:
                pace.wait(max(0.0, a.at_s - (time.perf_counter() - t0)))
                pid = patients[a.patient]
                submitted = time.perf_counter() - t0
                if a.kind == "consultation":
                    data = audio[a.index % len(audio)]
                    job = submit_recording(scribe_deps, nurse, pid, data, f"visit-{a.index}.wav")
                else:
                    job = submit_document(
                        digitize_deps, app.queue, nurse, pid, _prescription(a.index, args.seed), "rx.jpg"
                    )
                with log.lock:
                    log.jobs.append(Tracked(a.kind, job.job_id, submitted))
                    users.pending.add(job.job_id)
            # The day is over: users keep browsing until the last job is done (or the drain bound).
            drain_until = time.monotonic() + args.drain_minutes * 60
            while users.busy() and time.monotonic() < drain_until:
                pace.wait(1.0)
            stop_users.set()
            stop_watch.set()
            for t in threads:
                t.join(timeout=60)
            wall_s = time.perf_counter() - t0
            load_after = os.getloadavg()[0]
        finally:
            for process in (worker, api):
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    settings = {
        "consultations": consultations,
        "prescriptions": prescriptions,
        "audio_minutes": args.audio_minutes,
        # Spoken dialogues end with their text: some are shorter than --audio-minutes (16 kHz 16-bit mono WAV).
        "audio_minutes_spoken": [round((len(a) - 44) / 32_000 / 60, 1) for a in audio],
        "replayed_in_minutes": round(day_s / 60, 1),
        "compression": round(DAY_S / (args.day_minutes * 60), 1),
        "users": args.users,
        "seed": args.seed,
        "scale": args.scale,
        "worker_nice": args.worker_nice,
        "cpus": os.cpu_count(),
        # Other work on the machine inflates every figure: the 1-minute load average at the start and the end.
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "wall_s": round(wall_s, 1),
    }
    return report(log, settings)
