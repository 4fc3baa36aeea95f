"""Job consumer: receive -> keep the message hidden while working -> handle -> ack.

In local mode :func:`run_worker` runs in a thread of the app; in AWS mode it is
its own process (``python -m backend.worker``), as many as needed against one SQS
queue. Delivery is at-least-once: a handler that raises (or a worker that dies)
leaves the message to reappear after its visibility timeout, and SQS moves it to
the dead-letter queue after N receives. Handlers must therefore be idempotent.

The heartbeat here is the only thing that keeps a running job alive, on every host: while it extends the
message, no other worker sees the job; once it stops (the worker died or hung), the message comes back and
the next delivery takes the job over (``backend.services.scribe`` fences the old attempt out of the job row).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading
from collections.abc import Callable

from backend.domain.limits import DEFAULT_LIMITS
from backend.ports import JobQueue, QueueMessage
from backend.worker.process import serve

log = logging.getLogger("backend.worker")

Handler = Callable[[str], None]


def _heartbeat(queue: JobQueue, message: QueueMessage, done: threading.Event, every: float, visibility: int) -> None:
    # Extends before the timeout runs out; a failed extension is logged, the job keeps going.
    while not done.wait(every):
        try:
            queue.extend(message, visibility)
        except Exception:
            log.exception("could not extend visibility of job %s", message.job_id)


def process_one(
    queue: JobQueue,
    handle: Handler,
    message: QueueMessage,
    heartbeat_seconds: float,
    visibility_seconds: int,
    release_on_error: bool = True,
) -> bool:
    """Handle one message with a heartbeat; ack on success. Returns True when the job succeeded."""
    done = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(queue, message, done, heartbeat_seconds, visibility_seconds),
        name=f"heartbeat-{message.job_id}",
        daemon=True,
    )
    beat.start()
    try:
        handle(message.job_id)
    except Exception:
        done.set()
        beat.join()
        log.exception("job %s failed (receive %d)", message.job_id, message.receive_count)
        if release_on_error:
            queue.release(message)
        return False
    done.set()
    beat.join()
    queue.ack(message)
    return True


def run_worker(
    queue: JobQueue,
    handle: Handler,
    stop: threading.Event,
    *,
    heartbeat_seconds: float = DEFAULT_LIMITS.worker_heartbeat_seconds,
    visibility_seconds: int = DEFAULT_LIMITS.worker_visibility_seconds,
    wait_seconds: float = DEFAULT_LIMITS.worker_wait_seconds,
    max_jobs: int | None = None,
    release_on_error: bool = True,
) -> int:
    """Consume jobs until ``stop`` is set (or ``max_jobs`` were handled); returns how many succeeded.

    Args:
        queue: any JobQueue (SQLite or SQS).
        handle: ``handle(job_id)``; must be idempotent (a job can be delivered twice).
        stop: set it to finish after the current job.
        heartbeat_seconds: how often the message's visibility is extended while a job runs
            (keep it well under ``visibility_seconds``).
        visibility_seconds: how long a received message stays hidden from other workers per extension.
        wait_seconds: long-poll wait per receive.
        release_on_error: make a failed job visible again at once (else it reappears after the timeout).
    """
    if heartbeat_seconds >= visibility_seconds:
        raise ValueError("heartbeat_seconds must be shorter than visibility_seconds")
    succeeded = handled = 0
    while not stop.is_set() and (max_jobs is None or handled < max_jobs):
        try:
            message = queue.receive(wait_seconds=wait_seconds, visibility_seconds=visibility_seconds)
        except Exception:
            # Queue outage: back off and keep the process alive; the orchestrator sees the logs.
            log.exception("receive failed; retrying")
            stop.wait(min(wait_seconds, 5.0) or 1.0)
            continue
        if message is None:
            continue
        handled += 1
        succeeded += process_one(queue, handle, message, heartbeat_seconds, visibility_seconds, release_on_error)
    return succeeded


def _load_handler(spec: str) -> Handler:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise SystemExit(f"--handler must look like package.module:function, got {spec!r}")
    handler: Handler = getattr(importlib.import_module(module_name), attr)
    return handler


def _build(handler_spec: str | None) -> tuple[JobQueue, Handler]:
    from backend.config import Settings

    settings = Settings()
    try:
        from backend.bootstrap import build_app, build_queue
    except ImportError as e:
        raise SystemExit(f"backend.bootstrap is incomplete ({e}); cannot build the queue") from e
    if handler_spec:
        # A custom handler needs only the configured queue, not the whole app.
        return build_queue(settings), _load_handler(handler_spec)
    app = build_app(settings)
    if settings.resolved("store") == "sqlite":  # a restore must not replace the database under a running worker
        from backend.services.data_lock import DataDirLock

        DataDirLock(settings.data_dir).hold_shared()
    handle = getattr(app, "handle_job", None)
    if handle is None or getattr(app, "queue", None) is None:
        raise SystemExit("The app built by backend.bootstrap has no .queue or .handle_job; cannot run a worker.")
    return app.queue, handle


def main(argv: list[str] | None = None) -> int:
    """``python -m backend.worker``: consume jobs until SIGTERM/SIGINT."""
    from backend.config import Settings

    limits = Settings().limits()  # the flags' defaults: COPILOT_WORKER_HEARTBEAT_SECONDS, ... (README)
    parser = argparse.ArgumentParser(prog="python -m backend.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--handler", help="module:function to call with each job id (default: the app's job handler)")
    parser.add_argument(
        "--heartbeat", type=float, default=limits.worker_heartbeat_seconds, help="seconds between visibility extensions"
    )
    parser.add_argument(
        "--visibility",
        type=int,
        default=limits.worker_visibility_seconds,
        help="visibility timeout per extension (seconds)",
    )
    parser.add_argument(
        "--wait", type=float, default=limits.worker_wait_seconds, help="long-poll wait per receive (seconds)"
    )
    parser.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs")
    args = parser.parse_args(argv)

    def run(built: tuple[JobQueue, Handler], stop: threading.Event) -> None:
        queue, handle = built
        done = run_worker(
            queue,
            handle,
            stop,
            heartbeat_seconds=args.heartbeat,
            visibility_seconds=args.visibility,
            wait_seconds=args.wait,
            max_jobs=args.max_jobs,
        )
        log.info("worker stopping after %d successful jobs", done)

    return serve(lambda: _build(args.handler), run)


if __name__ == "__main__":
    sys.exit(main())
