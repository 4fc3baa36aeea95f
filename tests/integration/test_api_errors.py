"""Bad input over HTTP gets the status an integrator can act on, with a sentence saying what to do."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.api_client import PID, api_harness
from tests.helpers.speech import tone_bursts, wav_bytes


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    h = api_harness(tmp_path, max_upload_mb=1)
    nurse = h.auth("nurse")
    big = ("visit.wav", b"\0" * (1024 * 1024 + 1), "audio/wav")
    too_large = h.client.post(f"/v1/patients/{PID}/recordings", files={"file": big}, headers=nurse)
    assert too_large.status_code == 413 and "1 MB" in too_large.json()["detail"]
    text = ("notes.txt", b"hello", "text/plain")
    not_audio = h.client.post(f"/v1/patients/{PID}/recordings", files={"file": text}, headers=nurse)
    assert not_audio.status_code == 415 and "not an audio file" in not_audio.json()["detail"]
    wav = ("visit.wav", wav_bytes(tone_bursts(1.0)), "audio/wav")
    unknown = h.client.post("/v1/patients/PAT_00000000/recordings", files={"file": wav}, headers=nurse)
    assert unknown.status_code == 404
    assert h.app.stores.jobs.list_for_patient("PAT_00000000") == []  # nothing stored for a refused upload
    bad_phone = h.client.post("/v1/patients", json={"name": "A Person", "phone": "12"}, headers=nurse)
    assert bad_phone.status_code == 422 and bad_phone.json()["errors"][0]["msg"]
    extra = h.client.post("/v1/patients", json={"name": "A Person", "nickname": "x"}, headers=nurse)
    assert extra.status_code == 422  # unknown fields are refused, not silently dropped
    broken = h.client.post("/v1/patients", content=b"{not json", headers={**nurse, "Content-Type": "application/json"})
    assert broken.status_code in (400, 422)
    huge_ts = h.client.get(f"/v1/patients/{PID}/notes/{2**63}", headers=nurse)
    assert huge_ts.status_code == 422
