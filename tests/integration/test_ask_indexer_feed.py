"""The Ask index builder on a real SQLite store: its change feed makes the builder refresh a cached patient's
index when a note or a saved document arrives, and leaves other patients alone; the app's background start
marks the cache so questions read it.
"""

from __future__ import annotations

from pathlib import Path

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import AuditEvent, HistoryEntry, Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from backend.services.ask import ask
from backend.worker.ask_index import AskIndexer, start_ask_indexer

DOCTOR = Principal("dr", Role.DOCTOR)
A, B = "PAT_0000000a", "PAT_0000000b"
T0 = 1_709_251_200_000


def test_the_feed_drives_rebuilds_of_cached_patients(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite", llm="offline"))
    stores = app.stores
    assert stores.changes is not None
    for pid in (A, B):
        stores.patients.add(Patient(patient_id=pid, name=f"Patient {pid[-1]}"))
        stores.notes.add(Note(patient_id=pid, timestamp=T0, status=NoteStatus.SIGNED, sections={"plan": "Rest."}))
    cache = app.ask_cache()
    indexer = AskIndexer(stores, cache, None, stores.changes, stores.changes.last_id())
    cache.want(A)
    assert indexer.step(0) == [A]
    stores.notes.add(Note(patient_id=A, timestamp=T0 + 1, status=NoteStatus.DRAFT, sections={"plan": "Ibuprofen."}))
    stores.notes.add(Note(patient_id=B, timestamp=T0 + 1, status=NoteStatus.DRAFT, sections={"plan": "Rest more."}))
    assert indexer.step(0) == [A]  # B's index is not cached: nobody asked, nothing built
    # A saved document: the history row has no change kind of its own; its audit line reaches the feed.
    stores.history.add(HistoryEntry(patient_id=A, timestamp=T0 + 2, extracted_text="Tab. Amlodipine 5 mg OD"))
    stores.audit.append(AuditEvent(actor="nurse", role="nurse", action="digitize.save", patient_id=A, detail="x"))
    assert indexer.step(0) == [A]
    assert ask(stores, DOCTOR, A, "amlodipine", cache=cache).citations
    assert indexer.step(0) == []  # nothing new
    assert cache.builds == 3  # each change rebuilt the index once; asking read it


def test_the_background_start_marks_the_cache_and_answers_stay_whole(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite", llm="offline"))
    app.stores.patients.add(Patient(patient_id=A, name="Patient A"))
    app.stores.notes.add(
        Note(patient_id=A, timestamp=T0, status=NoteStatus.SIGNED, sections={"plan": "Metformin 500 mg BD."})
    )
    start_ask_indexer(app)
    assert app.ask_cache().refreshed_in_background
    answer = ask(app.stores, DOCTOR, A, "metformin", cache=app.ask_cache())
    assert answer.citations and answer.note == ""  # a small patient: the whole index, at once
