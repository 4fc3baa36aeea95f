"""The tests' SSE reader when its server goes away: it ends quietly, says so, and leaves no thread exception.

A loopback server opens an event stream, sends one comment and closes the connection without the chunked
body's last chunk, as a test's API server does when it stops while a reader waits for the next line.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from tests.helpers.http_server import QuietHandler, serve
from tests.helpers.sse_stream import BOUND_S, Stream


class CutStream(QuietHandler):
    """``GET /v1/events``: 200, one chunk (a comment line), then the connection closes mid-body."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        line = b": stream opened\n\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.wfile.flush()
        self.close_connection = True  # no terminating zero-length chunk: the body is cut


class HeldStream(QuietHandler):
    """Like :class:`CutStream`, but the second line (then the cut) waits until ``release`` is set."""

    protocol_version = "HTTP/1.1"
    release = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in (b": stream opened\n\n", b": keep-alive\n\n"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            self.release.wait(BOUND_S)
        self.close_connection = True


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """Exceptions that end any thread during the test (what pytest would report as an unhandled-thread warning)."""
    seen: list[BaseException | None] = []

    def hook(args: Any) -> None:
        seen.append(args.exc_value)

    monkeypatch.setattr(threading, "excepthook", hook)
    return seen


def test_a_stream_cut_by_its_server_ends_quietly_and_says_so(thread_errors: list[BaseException | None]) -> None:
    with serve(CutStream) as url:
        stream = Stream(url, {}).start()
        stream.wait_open()
        assert stream.ended.wait(BOUND_S)
    closed = stream.items.get(timeout=BOUND_S)
    assert "closed" in closed and "RemoteProtocolError" in closed["closed"]
    assert thread_errors == []


def test_a_stream_whose_server_is_gone_ends_quietly(thread_errors: list[BaseException | None]) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stream = Stream(f"http://127.0.0.1:{port}", {}).start()
    assert stream.ended.wait(BOUND_S)
    assert "ConnectError" in stream.items.get(timeout=BOUND_S)["closed"]
    assert stream.status.empty()
    assert thread_errors == []


def test_a_stream_closed_by_its_reader_reports_no_closing(thread_errors: list[BaseException | None]) -> None:
    HeldStream.release.clear()
    with serve(HeldStream) as url:
        stream = Stream(url, {}).start()
        stream.wait_open()
        stream.close()
        HeldStream.release.set()  # the next line reaches a reader that has stopped
        assert stream.ended.wait(BOUND_S)
    assert stream.items.empty()
    assert thread_errors == []
