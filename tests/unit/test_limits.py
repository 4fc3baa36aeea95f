"""One ``Limits`` object: built from the settings (env vars), with the defaults written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import Settings
from backend.domain.limits import DEFAULT_LIMITS, MB, Limits
from backend.services.scribe import ScribeDeps


@pytest.fixture(autouse=True)
def _no_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COPILOT_SECRETS_FILE", str(tmp_path / "absent.toml"))  # the repo's own file must not count


def test_default_settings_give_the_default_limits() -> None:
    assert Settings().limits() == DEFAULT_LIMITS
    assert (DEFAULT_LIMITS.max_audio_seconds, DEFAULT_LIMITS.max_audio_bytes) == (3600, 200 * MB)
    assert (DEFAULT_LIMITS.max_document_pages, DEFAULT_LIMITS.max_document_bytes) == (20, 25 * MB)


def test_each_limit_follows_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "COPILOT_MAX_AUDIO_MINUTES": "5",
        "COPILOT_MAX_UPLOAD_MB": "7",
        "COPILOT_MAX_PDF_PAGES": "3",
        "COPILOT_MAX_DOCUMENT_MB": "2",
        "COPILOT_JOB_MAX_ATTEMPTS": "4",
        "COPILOT_WORKER_HEARTBEAT_SECONDS": "15",
        "COPILOT_WORKER_VISIBILITY_SECONDS": "60",
        "COPILOT_WORKER_WAIT_SECONDS": "20",
    }.items():
        monkeypatch.setenv(name, value)
    limits = Settings().limits()
    assert (limits.max_audio_seconds, limits.max_audio_bytes, limits.max_import_bytes) == (300, 7 * MB, 7 * MB)
    assert (limits.max_document_pages, limits.max_document_bytes, limits.job_max_attempts) == (3, 2 * MB, 4)
    assert (limits.worker_heartbeat_seconds, limits.worker_visibility_seconds, limits.worker_wait_seconds) == (
        15,
        60,
        20,
    )
    assert limits.audio_extensions == DEFAULT_LIMITS.audio_extensions  # the lists are not configurable


def test_a_heartbeat_as_long_as_the_visibility_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="heartbeat must be shorter"):
        Settings(worker_heartbeat_seconds=120, worker_visibility_seconds=120).limits()


def test_the_scribe_service_refuses_an_extension_outside_its_limits_list() -> None:
    from backend.domain.errors import UnsupportedInput
    from backend.domain.models import Patient, Role
    from backend.services import scribe
    from backend.services.access import Principal
    from tests.fakes.audio import FakeCodec
    from tests.fakes.blobs import FakeBlobs
    from tests.fakes.queue import FakeQueue
    from tests.fakes.records import fake_record_store

    deps = ScribeDeps(
        stores=fake_record_store(),
        blobs=FakeBlobs(),
        queue=FakeQueue(),
        codec=FakeCodec(),
        transcriber=lambda: None,  # type: ignore[arg-type,return-value]  # never reached: refused first
        draft=lambda segments: None,  # type: ignore[arg-type,return-value]
        limits=Limits(audio_extensions=("wav",)),
    )
    deps.stores.patients.add(Patient(patient_id="P1", name="Sita Devi"))
    nurse = Principal("nurse", Role.NURSE)
    with pytest.raises(UnsupportedInput, match=r"not an audio file\. Upload wav\."):
        scribe.submit_recording(deps, nurse, "P1", b"RIFF", "visit.mp3")
