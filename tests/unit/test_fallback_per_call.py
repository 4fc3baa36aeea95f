"""A fallback wrapper is shared by every session and worker thread; each caller reads its own call's banner."""

from __future__ import annotations

import threading

from backend.adapters.fallback import FallbackOcr
from backend.domain.errors import ProviderUnavailable
from backend.ports import OcrLine, call_fallback


class Cloud:
    """Fails for documents whose bytes say so (an honest stand-in for a flaky service)."""

    name = "textract"

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        if image_bytes == b"fail":
            raise ProviderUnavailable("Textract timed out.")
        return [OcrLine(text="cloud", box=((0, 0), (1, 1)), score=0.99)]


class Offline:
    name = "rapidocr"

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        return [OcrLine(text="offline", box=((0, 0), (1, 1)), score=0.9)]


def test_each_thread_sees_its_own_calls_banner() -> None:
    engine = FallbackOcr(Cloud(), Offline())
    a_done, b_done = threading.Event(), threading.Event()
    seen: dict[str, str | None] = {}

    def job_a() -> None:
        assert engine.read_image(b"fail")[0].text == "offline"
        a_done.set()
        seen["a waited"] = str(b_done.wait(60))  # another session's call succeeds in between
        seen["a"] = call_fallback(engine)

    def job_b() -> None:
        seen["b waited"] = str(a_done.wait(60))
        assert engine.read_image(b"ok")[0].text == "cloud"
        seen["b"] = call_fallback(engine)
        b_done.set()

    threads = [threading.Thread(target=job_a), threading.Thread(target=job_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert seen["a waited"] == seen["b waited"] == "True"  # the calls really interleaved as planned
    assert seen["a"] is not None and "Read by the offline engine (rapidocr)" in seen["a"] and "timed out" in seen["a"]
    assert seen["b"] is None
    assert engine.last_fallback is None and engine.last_error == "Textract timed out."  # the process-wide view
    assert call_fallback(engine) is None and call_fallback(Offline()) is None  # no call on this thread / no wrapper
