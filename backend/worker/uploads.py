"""The upload-events consumer: S3 event notifications (SQS, or the local inbox) -> ``uploads.handle_event``.

Locally it is a thread of the app process (started with the job worker); on AWS it is its own process,
``python -m backend.worker.uploads``, reading the queue the bucket notifies. A message is acked once handled;
one that is not an S3 event is dropped with a log line; any other failure leaves it for redelivery (and SQS's
dead-letter queue after N receives). ``handle_event`` is idempotent, so redeliveries are harmless.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

from backend.domain.errors import CopilotError, ValidationFailed
from backend.ports import EventInbox
from backend.services.uploads import UploadDeps, handle_event
from backend.worker.process import serve

log = logging.getLogger("backend.worker.uploads")
_started: set[int] = set()
_lock = threading.Lock()


def consume_one(deps: UploadDeps, inbox: EventInbox, wait_seconds: float = 1.0) -> list[str] | None:
    """Receive and handle one message; its outcomes, or None when the inbox stayed empty."""
    message = inbox.receive(wait_seconds=wait_seconds, visibility_seconds=120)
    if message is None:
        return None
    try:
        outcomes = handle_event(deps, message.body, redelivered=message.receive_count > 1)
    except ValidationFailed as e:
        log.warning("dropping a message that is not an S3 event: %s", e.message)
        inbox.ack(message)
        return ["dropped"]
    except Exception:
        log.exception("upload event failed (receive %d); it will be delivered again", message.receive_count)
        return ["failed"]
    inbox.ack(message)
    log.info("upload event: %s", ", ".join(outcomes) or "nothing to do")
    return outcomes


def run_upload_consumer(deps: UploadDeps, stop: threading.Event, wait_seconds: float = 1.0) -> None:
    """Consume until ``stop`` is set."""
    while not stop.is_set():
        try:
            consume_one(deps, deps.inbox, wait_seconds)
        except CopilotError as e:  # the inbox itself is unreachable: keep trying, slowly
            log.warning("upload inbox unavailable: %s", e.message)
            stop.wait(5.0)


def start_local_upload_consumer(app: Any) -> None:
    """Start the in-process consumer once per App when uploads are staged locally."""
    if app.providers.get("blobs") != "local":
        return
    with _lock:
        if id(app) in _started:
            return
        _started.add(id(app))
    stop = threading.Event()
    thread = threading.Thread(
        target=run_upload_consumer, args=(app.upload_deps(), stop), name="upload-events", daemon=True
    )
    thread.start()


def main(argv: list[str] | None = None) -> int:
    """``python -m backend.worker.uploads``: consume the bucket's upload events until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m backend.worker.uploads", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=10.0, help="long-poll wait per receive (seconds)")
    args = parser.parse_args(argv)
    from backend.bootstrap import build_app

    return serve(lambda: build_app().upload_deps(), lambda deps, stop: run_upload_consumer(deps, stop, args.wait))


if __name__ == "__main__":
    sys.exit(main())
