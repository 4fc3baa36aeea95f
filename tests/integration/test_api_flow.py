"""What an integrator does, over HTTP with the real pipeline: register a patient, upload a spoken recording,
poll the job until the draft is ready (real PyAV, real whisper, the in-process worker), read, edit and sign
the note, amend it, export the FHIR bundle; and a prescription PDF read, confirmed and on the timeline.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.bootstrap import build_app
from tests.helpers.api_client import ApiHarness, api_harness
from tests.helpers.prescriptions import text_pdf
from tests.helpers.speech import synth_samples, wav_bytes, whisper_model_dir

__all__ = ["whisper_model_dir"]
SPEECH = "I have had a fever and a cough for three days. I take metformin 500 milligrams twice daily."
JOB_BOUND_S = 600.0  # a bound, not a budget: the job takes seconds; this only stops a hung worker


@pytest.fixture
def harness(tmp_path: Path, whisper_model_dir: Path) -> ApiHarness:
    return api_harness(tmp_path, start_worker=True, demo=False, whisper_model=str(whisper_model_dir))


def _wait_for_job(h: ApiHarness, job_id: str, headers: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + JOB_BOUND_S
    tick = threading.Event()
    while time.monotonic() < deadline:
        body = h.client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in ("ready_for_review", "failed"):
            return body, seen
        tick.wait(0.25)
    pytest.fail(f"job {job_id} still {seen[-1]} after {JOB_BOUND_S:.0f} s")


def test_register_record_poll_review_sign_amend_export(harness: ApiHarness) -> None:
    nurse, doctor = harness.auth("nurse"), harness.auth("doctor")
    with harness.client as client:  # starts the app's in-process worker, as `python -m backend api` does
        created = client.post("/v1/patients", json={"name": "Ravi Kumar", "phone": "98765 43210"}, headers=nurse)
        assert created.status_code == 201, created.text
        pid = created.json()["patient_id"]
        assert created.json()["phone"] == "+919876543210"
        found = client.get("/v1/patients", params={"q": "Ravi"}, headers=nurse).json()["items"]
        assert pid in [p["patient_id"] for p in found]

        audio = wav_bytes(synth_samples(SPEECH))
        accepted = client.post(
            f"/v1/patients/{pid}/recordings", files={"file": ("visit.wav", audio, "audio/wav")}, headers=nurse
        )
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        job, seen = _wait_for_job(harness, job_id, nurse)
        assert job["status"] == "ready_for_review", job
        assert set(seen) <= {"queued", "transcribing", "drafting", "ready_for_review"}

        note = client.get(job["note"]["url"], headers=doctor).json()
        assert note["status"] == "draft" and note["job_id"] == job_id and note["has_audio"]
        assert note["transcript"] and "fever" in " ".join(s["text"] for s in note["transcript"]).lower()
        meds = {m["name"]: m for m in note["medications"]}
        assert "metformin" in meds and meds["metformin"]["strength"] == "500 mg"
        assert meds["metformin"]["evidence"]["segment_ids"]
        listed = client.get(f"/v1/patients/{pid}/notes", headers=nurse).json()["items"]
        assert [n["timestamp"] for n in listed] == [note["timestamp"]]

        url = job["note"]["url"]
        nurse_sign = client.post(f"{url}/sign", json={"version": note["version"]}, headers=nurse)
        assert nurse_sign.status_code == 403
        plan = "Paracetamol as needed; review in 3 days."
        sections = {**note["sections"], "plan": plan}
        stale = client.post(f"{url}/sign", json={"version": note["version"] + 5, "sections": sections}, headers=doctor)
        assert stale.status_code == 409
        signed = client.post(f"{url}/sign", json={"version": note["version"], "sections": sections}, headers=doctor)
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert (body["status"], body["signer"], body["sections"]["plan"]) == ("signed", "doctor", plan)
        again = client.put(url, json={"version": body["version"], "sections": {"plan": "changed"}}, headers=doctor)
        assert again.status_code == 409  # signed notes never change

        amendment = client.post(f"{url}/amend", headers=nurse)
        assert amendment.status_code == 201 and amendment.json()["amends"] == note["timestamp"]
        assert client.get(url, headers=doctor).json()["sections"]["plan"] == plan  # the original stays

        bundle = client.get(f"/v1/patients/{pid}/fhir", headers=doctor)
        assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("application/fhir+json")
        kinds = [e["resource"]["resourceType"] for e in bundle.json()["entry"]]
        assert "Patient" in kinds and "DocumentReference" in kinds

    # The same audit lines as the pages, under the token's account and role.
    trail = [(e.actor, e.role, e.action) for e in reversed(harness.app.stores.audit.query(patient_id=pid).items)]
    for line in [
        ("nurse", "nurse", "patient.create"),
        ("nurse", "nurse", "scribe.submit"),
        ("doctor", "doctor", "note.edit"),
        ("doctor", "doctor", "note.sign"),
        ("nurse", "nurse", "note.amend"),
        ("doctor", "doctor", "export.fhir"),
    ]:
        assert line in trail


def test_a_prescription_is_read_edited_confirmed_and_on_the_timeline(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    nurse = h.auth("nurse")
    pid = h.client.post("/v1/patients", json={"name": "Sita Devi"}, headers=nurse).json()["patient_id"]
    pdf = text_pdf([["Dr. A. Rao, MBBS", "Rx", "Tab. Amlodipine 5 mg OD x 30 days", "Tab. Metformin 500 mg BD"]])
    accepted = h.client.post(
        f"/v1/patients/{pid}/documents", files={"file": ("rx.pdf", pdf, "application/pdf")}, headers=nurse
    )
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert h.client.get(job["reading_url"], headers=nurse).status_code == 409  # queued: not read yet
    # The worker is another process (another App on the same data): the reading reaches the API through storage.
    build_app(h.app.settings).handle_job(job["job_id"])
    assert h.client.get(job["status_url"], headers=nurse).json()["status"] == "ready_for_review"
    other_api = TestClient(create_app(build_app(h.app.settings), start_worker=False))  # a second API process
    read = other_api.get(job["reading_url"], headers=nurse)
    assert read.status_code == 200, read.text
    reading = read.json()
    assert reading["mime"] == "application/pdf" and "Amlodipine" in reading["text"]
    names = [m["name"] for m in reading["medications"]]
    assert names == ["amlodipine", "metformin"], names
    edited = [{"name": "amlodipine", "strength": "10 mg", "frequency": "OD"}, {"name": "metformin"}]
    other = h.client.post(reading["confirm_url"], json={"medications": edited}, headers=h.auth("doctor"))
    assert other.status_code == 404  # a reading belongs to whoever read it
    saved = h.client.post(reading["confirm_url"], json={"medications": edited}, headers=nurse)
    assert saved.status_code == 201, saved.text
    meds = saved.json()["medications"]
    assert [(m["name"], m["strength"], m["verified"]) for m in meds] == [
        ("amlodipine", "10 mg", True),
        ("metformin", "500 mg", True),
    ]
    assert h.client.post(reading["confirm_url"], json={}, headers=nurse).status_code == 404  # saved once
    timeline = h.client.get(f"/v1/patients/{pid}/timeline", params={"kind": "document"}, headers=nurse).json()
    assert timeline["total"] == 1 and timeline["items"][0]["kind"] == "document"
    active = h.client.get(f"/v1/patients/{pid}/medications", headers=nurse).json()
    assert {m["name"] for m in active} == {"amlodipine", "metformin"}
