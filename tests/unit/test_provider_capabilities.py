"""The providers page reads engines through the capabilities declared in ``backend.ports`` (no attribute probing)."""

from __future__ import annotations

from backend.adapters.fallback import FallbackOcr
from backend.domain.errors import ProviderUnavailable
from backend.ports import Checkable, EngineStatus, OcrLine
from backend.services.providers import ProviderRegistry
from tests.fakes.ocr import FakeOcr

PAGE = b"page image"


class CloudOcr:
    """A cloud OCR engine with a connection test; ``down`` makes both its reads and its test fail."""

    name = "cloud-ocr"

    def __init__(self) -> None:
        self.down: str | None = None

    def check(self) -> str:
        if self.down:
            raise ProviderUnavailable(self.down)
        return "cloud-ocr reachable"

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        if self.down:
            raise ProviderUnavailable(self.down)
        return [OcrLine(text="from the cloud", box=((0.0, 0.0),), score=1.0, page=page)]


def test_a_fallback_wrapper_declares_its_status_and_the_cloud_engines_connection_test() -> None:
    cloud, offline = CloudOcr(), FakeOcr()
    offline.show(PAGE, ["read offline"])
    wrapper = FallbackOcr(cloud, offline)
    assert isinstance(wrapper, EngineStatus) and isinstance(wrapper, Checkable)
    assert not isinstance(offline, Checkable) and not isinstance(offline, EngineStatus)

    registry = ProviderRegistry()
    registry.register("ocr", "textract", wrapper)
    assert registry.test_connection("ocr") == (True, "cloud-ocr reachable")

    cloud.down = "quota exceeded"
    assert [line.text for line in wrapper.read_image(PAGE)] == ["read offline"]
    (row,) = [r for r in registry.status() if r.port == "ocr"]
    assert (row.engine, row.live, row.last_error) == ("fake-ocr", False, "quota exceeded")
    assert row.fallback and "quota exceeded" in row.fallback
    assert registry.test_connection("ocr") == (False, "quota exceeded")


def test_an_offline_engine_needs_no_connection_and_is_named_by_itself() -> None:
    registry = ProviderRegistry()
    registry.register("ocr", "rapidocr", FakeOcr())
    assert registry.test_connection("ocr") == (True, "fake-ocr runs on this machine; no connection needed.")
    (row,) = [r for r in registry.status() if r.port == "ocr"]
    assert (row.engine, row.live, row.cloud, row.last_error, row.fallback) == ("fake-ocr", True, False, None, None)
