"""Hostile uploads through every upload path, and hostile text in every free-text field.

Each file of the corpus (tests/helpers/hostile_corpus.py) goes through the scribe upload
(``submit_recording``, then the worker's ``process_job`` if accepted), the digitize upload
(``read_document`` then ``save_digitized``) and the health-data import (``import_metrics``).
Every outcome is either a clean acceptance or a :class:`CopilotError` whose message says what to do;
a refusal leaves no row and no file behind.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.errors import CopilotError, ValidationFailed
from backend.domain.models import JobStatus, Medication, Note, Role
from backend.services.access import Principal
from backend.services.digitize import Reading, read_document, save_digitized
from backend.services.export import export_bundle, summary_html
from backend.services.metrics import import_metrics
from backend.services.notes import save_draft, sign_note
from backend.services.patients import PatientInput, register_patient, search_patients
from backend.services.scribe import process_job, submit_recording
from tests.conftest import ROOT
from tests.helpers.hostile_corpus import INJECTIONS, Hostile, build_corpus
from tests.helpers.speech import whisper_model_dir

__all__ = ["whisper_model_dir"]  # fixture imported for pytest

NURSE = Principal("nurse", Role.NURSE)
DOCTOR = Principal("doctor", Role.DOCTOR)
UPLOAD_LIMIT_MB = 5
# A message "names the fix" when it tells the user what to do next.
_FIX_WORDS = re.compile(
    r"\b(upload|choose|record|split|export|resize|retake|take|convert|use|check|try|enter|retype|shorten|remove|"
    r"save|re-upload|re-export|ask|add|reload|sign in|free)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, whisper_model_dir: Path) -> App:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("hostile"),
        store="sqlite",
        blobs="local",
        queue="sqlite",
        max_upload_mb=UPLOAD_LIMIT_MB,
        whisper_model=str(whisper_model_dir),
    )
    return build_app(settings)


@pytest.fixture(scope="module")
def pid(app: App) -> str:
    return register_patient(app.stores, NURSE, PatientInput(name="Hostile Input")).patient.patient_id


_CORPUS: list[Hostile] = build_corpus("PAT_00000000", 26 * 1024 * 1024)  # ids only; rebuilt with the real patient


@pytest.fixture(scope="module")
def corpus(pid: str) -> dict[str, Hostile]:
    return {h.name: h for h in build_corpus(pid, 26 * 1024 * 1024)}


def _state(app: App) -> dict[str, Any]:
    with sqlite3.connect(app.settings.db_path) as conn:
        tables = ("patients", "notes", "history", "metrics", "jobs", "queue")
        rows: dict[str, Any] = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    rows["blobs"] = sorted(
        str(p.relative_to(app.settings.blob_root)) for p in app.settings.blob_root.rglob("*") if p.is_file()
    )
    return rows


def _scribe(app: App, pid: str, h: Hostile) -> str:
    deps = app.scribe_deps()
    job = submit_recording(deps, NURSE, pid, h.data, h.filename)
    process_job(deps, job.job_id)
    done = app.stores.jobs.get(job.job_id)
    assert done.status in (JobStatus.READY, JobStatus.FAILED)
    if done.status is JobStatus.FAILED:  # refused in the worker: a clear reason, and no note
        assert done.error and _FIX_WORDS.search(done.error), done.error
        notes = app.stores.notes.list_for_patient(pid, limit=500).items
        assert not [n for n in notes if n.job_id == job.job_id]
        return f"job failed: {done.error}"
    return "note drafted"


def _digitize(app: App, pid: str, h: Hostile) -> str:
    deps = app.digitize_deps()
    reading = read_document(deps, NURSE, pid, h.data, h.filename)
    save_digitized(deps, NURSE, pid, h.data, reading, reading.medications)
    return f"read {len(reading.pages)} page(s)"


def _metrics(app: App, pid: str, h: Hostile) -> str:
    report = import_metrics(NURSE, app.stores, app.blobs, pid, h.data, h.filename)
    return f"imported {report.days_written} day(s)"


PATHS: dict[str, Callable[[App, str, Hostile], str]] = {"scribe": _scribe, "digitize": _digitize, "metrics": _metrics}
# A hostile file must never hang a path: each is given this long to finish (a bound for a hang, not a speed budget;
# a slow machine only takes longer, and the time each took is printed).
HANG_BOUND_S = 600.0


def _finishes(run: Callable[[], str], what: str) -> str:
    """``run()``'s result (or its exception) once it returns; fails if it is still running after the bound."""
    outcome: list[str] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as e:  # handed to the test thread as it is
            error.append(e)

    worker = threading.Thread(target=target, name=f"hostile-{what}", daemon=True)
    worker.start()
    worker.join(HANG_BOUND_S)
    assert not worker.is_alive(), f"{what} was still running after {HANG_BOUND_S:.0f} s"
    if error:
        raise error[0]
    return outcome[0]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("name", [h.name for h in _CORPUS])
def test_hostile_file(app: App, pid: str, corpus: dict[str, Hostile], name: str, path: str) -> None:
    h = corpus[name]
    before = _state(app)
    started = time.monotonic()
    try:
        outcome = _finishes(lambda: PATHS[path](app, pid, h), f"{name} via {path}")
    except CopilotError as e:
        message = e.message
        assert 15 < len(message) < 600 and "Traceback" not in message, message
        assert _FIX_WORDS.search(message), f"the message does not say what to do: {message}"
        expected = h.expect.get(path)
        if expected:
            assert expected.lower() in message.lower(), f"{name} via {path}: {message}"
        assert _state(app) == before, f"{name} via {path} left partial data behind"
        outcome = f"refused: {message}"
    else:
        assert h.expect.get(path) is None, f"{name} via {path} was accepted but must be refused: {outcome}"
    elapsed = time.monotonic() - started  # reported, not asserted
    print(f"{name:28} {path:8} {elapsed:5.1f}s {outcome[:140]}")


def test_ten_minutes_of_silence_makes_no_note(app: App, pid: str) -> None:
    from tests.helpers.hostile_corpus import silent_wav

    deps = app.scribe_deps()
    job = submit_recording(deps, NURSE, pid, silent_wav(600), "quiet-room.wav")
    process_job(deps, job.job_id)
    done = app.stores.jobs.get(job.job_id)
    assert done.status is JobStatus.FAILED and "No speech detected" in (done.error or "")
    assert not [n for n in app.stores.notes.list_for_patient(pid, limit=500).items if n.job_id == job.job_id]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_text_in_every_free_text_field_stays_inert(app: App, text: str) -> None:
    # Patient name and external id: refused with a message, or stored exactly as typed.
    try:
        reg = register_patient(app.stores, NURSE, PatientInput(name=f"Test {text}", external_id=text[:64]))
    except ValidationFailed as e:
        assert _FIX_WORDS.search(e.message), e.message
        reg = register_patient(app.stores, NURSE, PatientInput(name=f"Test {text}"))
        assert reg.patient.external_id is None
    else:
        assert reg.patient.external_id == text[:64].strip()
    patient = reg.patient
    assert patient.name == " ".join(f"Test {text}".split())
    assert search_patients(app.stores, NURSE, "Test")  # the search index copes with the odd tokens

    # Note sections and medication names.
    note = app.stores.notes.add(Note(patient_id=patient.patient_id, sections={"subjective": "x"}))
    sections = {"subjective": text, "objective": text, "assessment": text, "plan": text}
    meds = [Medication(name=text[:100], verbatim=text, strength=text[:40], instructions=text)]
    saved = save_draft(app.stores, NURSE, note, sections, medications=meds)
    assert saved.sections == {k: v.strip() for k, v in sections.items()}
    sign_note(app.stores, DOCTOR, saved)
    history_reading = Reading(filename="scan.png", mime="image/png", pages=[], text=text)
    save_digitized(
        app.digitize_deps(), NURSE, patient.patient_id, b"\x89PNG\r\n\x1a\n" + text.encode(), history_reading, meds
    )

    # Every way the text leaves the app keeps it inert.
    page = summary_html(app.stores, DOCTOR, patient.patient_id)
    # Escaped as text: no live tag, no live attribute (``onerror=`` only ever appears inside escaped text).
    assert "<script" not in page and "<img" not in page and 'href="javascript' not in page.replace("'", '"')
    bundle = export_bundle(app.stores, DOCTOR, patient.patient_id)
    assert bundle["resourceType"] == "Bundle"

    from ui.safe import md_escape

    escaped = md_escape(text)
    assert not re.search(r"(?<!\\)[<>\[\]()`*_#!]", escaped), escaped  # every markdown/HTML character escaped


def test_no_app_csv_export_without_neutralising_formulas() -> None:
    """The app writes no CSV of patient data (exports are FHIR JSON and escaped HTML); the only CSV downloads
    are static templates. A future CSV export must neutralise = + - @ cells: this test finds new CSV writers."""
    writers = re.compile(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(|text/csv")
    allowed = {
        "pages/health_metrics.py",  # serves backend/data/templates/*.csv: static, no patient data
        "backend/services/metrics.py",  # "text/csv" is the content type of the stored upload, not an export
    }
    found = set()
    for path in [
        *ROOT.glob("pages/*.py"),
        *ROOT.glob("ui/*.py"),
        *ROOT.glob("backend/services/*.py"),
        ROOT / "streamlit_app.py",
    ]:
        if writers.search(path.read_text(encoding="utf-8")):
            found.add(path.relative_to(ROOT).as_posix())
    assert found <= allowed, (
        f"new CSV export(s) {found - allowed}: neutralise cells starting with = + - @ and add them here"
    )
    for template in (ROOT / "backend/data/templates").glob("*.csv"):
        for line in template.read_text(encoding="utf-8").splitlines():
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(",")), line


def test_document_size_limit_is_a_setting_and_refuses_before_storing(tmp_path: Path) -> None:
    from backend.domain.errors import UnsupportedInput

    small = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite", max_document_mb=1))
    pid = register_patient(small.stores, NURSE, PatientInput(name="Size Limit")).patient.patient_id
    big_png = b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024)
    with pytest.raises(UnsupportedInput, match="the limit is 1 MB"):
        read_document(small.digitize_deps(), NURSE, pid, big_png, "scan.png")
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]  # nothing was stored
