"""A local app (SQLite records, local blobs and queue) and visit notes with a stored recording, for the
audio retention tests: signed some days before a fixed ``NOW``, or still a draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import Note, NoteStatus
from backend.domain.note_content import empty_sections
from backend.services.retention import DAY_MS

NOW = 1_800_000_000_000  # epoch ms the purges run at


def local_app(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    """The app on its local adapters in ``data_dir``, whatever the environment says."""
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COPILOT_STORE", "sqlite")
    monkeypatch.setenv("COPILOT_BLOBS", "local")
    monkeypatch.setenv("COPILOT_QUEUE", "sqlite")
    return build_app(Settings())


def recorded_note(
    app: App,
    patient_id: str,
    *,
    signed_days_ago: int | None,
    ts: int,
    audio: bytes | str,
    sections: dict[str, str] | None = None,
) -> Note:
    """Add a note with a recording: ``audio`` is its bytes (stored now) or the key of one already stored.

    ``signed_days_ago`` None leaves the note a draft.
    """
    key = audio if isinstance(audio, str) else app.blobs.put(audio, "audio/wav", prefix="audio")
    signed = signed_days_ago is not None
    note = Note(
        patient_id=patient_id,
        timestamp=ts,
        audio_key=key,
        status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
        signer="doctor" if signed else None,
        signed_at=NOW - signed_days_ago * DAY_MS if signed_days_ago is not None else None,
        sections=empty_sections() if sections is None else sections,
    )
    return app.stores.notes.add(note)
