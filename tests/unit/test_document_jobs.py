"""Reading a document as a job: submit stores the document and queues it; the worker reads it as its submitter
(audited) and stores the reading; the submitter alone loads it (identity checked again), saves or cancels it.

Real document code (a PDF with a text layer, pypdfium2) on fake stores, blobs and queue: no OCR is needed.
"""

from __future__ import annotations

from datetime import date

import pytest

from backend.domain.errors import NotFound, PermissionDenied, UnsupportedInput, ValidationFailed
from backend.domain.models import JobStatus, Patient, Role, User
from backend.formats import documents
from backend.ports import RecordStore
from backend.services import document_jobs as dj
from backend.services.access import Principal
from backend.services.digitize import DigitizeDeps
from tests.fakes.blobs import FakeBlobs
from tests.fakes.ocr import FakeOcr
from tests.fakes.queue import FakeQueue
from tests.helpers.prescriptions import text_pdf

PID = "PAT_5117a000"
NURSE = Principal("asha", Role.NURSE)
OTHER_NURSE = Principal("meena", Role.NURSE)
RX = ["Name: Sita Devi  Age: 34 F", "Date: 12/03/2025", "Rx", "Tab. Amlodipine 5 mg OD", "Tab. Metformin 500 mg BD"]


@pytest.fixture
def deps(stores: RecordStore) -> DigitizeDeps:
    stores.patients.add(Patient(patient_id=PID, name="Sita Devi", dob="1991-01-15", sex="female"))
    for p in (NURSE, OTHER_NURSE):
        stores.users.add(User(username=p.username, role=p.role, password_hash="x"))
    return DigitizeDeps(
        stores=stores,
        blobs=FakeBlobs(),
        ocr=FakeOcr,
        load_document=documents.load_document,
        read_pages=documents.ocr_document,
        mime_of=lambda data: documents.MIME_TYPES[documents.detect_kind(data)],
        today=lambda: date(2025, 6, 1),
    )


def _work(deps: DigitizeDeps, queue: FakeQueue) -> None:
    """The worker: every visible message handled and acked."""
    while (message := queue.receive()) is not None:
        dj.process_document_job(deps, message.job_id)
        queue.ack(message)


def test_submit_queues_then_the_worker_reads_and_the_reader_saves(deps: DigitizeDeps) -> None:
    queue = FakeQueue()
    job = dj.submit_document(deps, queue, NURSE, PID, text_pdf([RX]), "rx.pdf")
    assert job.kind == "document" and job.status is JobStatus.QUEUED and deps.blobs.exists(job.blob_key)
    assert dj.load_reading(deps, NURSE, PID, job.job_id) is None  # not read yet: nothing to show
    _work(deps, queue)
    done = dj.document_job(deps, NURSE, PID, job.job_id)
    assert done.status is JobStatus.READY and done.result_key is not None
    reading = dj.load_reading(deps, NURSE, PID, job.job_id)
    assert reading is not None
    assert [m.name for m in reading.medications] == ["amlodipine", "metformin"]
    assert reading.pages[0].source == "text-layer" and reading.pages[0].image_preview.startswith(b"\x89PNG")
    assert reading.identity is not None and reading.identity.status == "match"
    edited = [reading.medications[0].model_copy(update={"strength": "10 mg"})]
    entry = dj.save_reading(deps, NURSE, PID, job.job_id, edited)
    assert [(m.name, m.strength) for m in entry.medications] == [("amlodipine", "10 mg")]
    assert entry.document_key == job.blob_key  # the stored upload is the saved original, not a second copy
    with pytest.raises(NotFound):  # saved once: the reading is gone with its job
        dj.save_reading(deps, NURSE, PID, job.job_id, None)
    assert not deps.blobs.exists(done.result_key)
    actions = [(e.actor, e.action) for e in reversed(deps.stores.audit.query(patient_id=PID).items)]
    assert actions == [("asha", "digitize.submit"), ("asha", "digitize.read"), ("asha", "digitize.save")]


def test_a_reading_is_its_readers_and_a_second_delivery_reads_nothing_again(deps: DigitizeDeps) -> None:
    queue = FakeQueue()
    job = dj.submit_document(deps, queue, NURSE, PID, text_pdf([RX]), "rx.pdf")
    _work(deps, queue)
    dj.process_document_job(deps, job.job_id)  # at-least-once: a duplicate delivery of a finished job
    reads = [e for e in deps.stores.audit.query(patient_id=PID).items if e.action == "digitize.read"]
    assert len(reads) == 1
    for who, pid in ((OTHER_NURSE, PID), (NURSE, "PAT_00000000")):
        with pytest.raises(NotFound):
            dj.load_reading(deps, who, pid, job.job_id)
    with pytest.raises(PermissionDenied):
        dj.load_reading(deps, Principal("dr", Role.ADMIN), PID, job.job_id)
    assert dj.list_document_jobs(deps, OTHER_NURSE, PID) == []
    assert [j.job_id for j in dj.list_document_jobs(deps, NURSE, PID)] == [job.job_id]


def test_bad_documents_are_refused_before_storing_or_fail_the_job_with_the_reason(deps: DigitizeDeps) -> None:
    queue = FakeQueue()
    with pytest.raises(UnsupportedInput):
        dj.submit_document(deps, queue, NURSE, PID, b"not a document", "rx.png")
    assert deps.blobs.blobs == {} and queue.receive() is None  # type: ignore[attr-defined]
    blank = dj.submit_document(deps, queue, NURSE, PID, text_pdf([[""]]), "blank.pdf")
    _work(deps, queue)
    assert dj.document_job(deps, NURSE, PID, blank.job_id).status is JobStatus.FAILED
    with pytest.raises(ValidationFailed, match="No text could be read"):
        dj.load_reading(deps, NURSE, PID, blank.job_id)
    dj.discard_reading(deps, NURSE, PID, blank.job_id)
    assert dj.list_document_jobs(deps, NURSE, PID) == []


def test_a_disabled_submitter_gets_nothing_read(deps: DigitizeDeps) -> None:
    queue = FakeQueue()
    job = dj.submit_document(deps, queue, NURSE, PID, text_pdf([RX]), "rx.pdf")
    user = deps.stores.users.get("asha")
    deps.stores.users.update(user.model_copy(update={"disabled": True}), user.version)
    _work(deps, queue)
    failed = dj.document_job(deps, NURSE, PID, job.job_id)
    assert failed.status is JobStatus.FAILED and "disabled" in (failed.error or "")
    assert not [e for e in deps.stores.audit.query(patient_id=PID).items if e.action == "digitize.read"]


def test_cancelling_a_document_for_someone_else_is_audited(deps: DigitizeDeps) -> None:
    queue = FakeQueue()
    other = ["Name: Kavita Joshi  Age: 52 F", "Rx", "Tab. Metformin 500 mg BD"]
    job = dj.submit_document(deps, queue, NURSE, PID, text_pdf([other]), "rx.pdf")
    _work(deps, queue)
    reading = dj.load_reading(deps, NURSE, PID, job.job_id)
    assert reading is not None and reading.identity is not None and reading.identity.status == "mismatch"
    with pytest.raises(ValidationFailed, match="Kavita Joshi"):
        dj.save_reading(deps, NURSE, PID, job.job_id, None)
    dj.discard_reading(deps, NURSE, PID, job.job_id)
    actions = [e.action for e in deps.stores.audit.query(patient_id=PID).items]
    assert "digitize.identity_cancelled" in actions and "digitize.save" not in actions
    assert deps.blobs.exists(job.blob_key)  # content-addressed: the same bytes may be another patient's document
