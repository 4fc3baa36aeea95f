"""PUT /v1/patients/{id}/wearable: an integrator links a patient's Ultrahuman account (checked, versioned, audited)."""

from __future__ import annotations

import pytest

from backend.domain.models import Patient
from tests.helpers.api_client import ApiHarness, api_harness

PID = "PAT_0000feed"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> ApiHarness:
    h = api_harness(tmp_path_factory.mktemp("api-wearable"), demo=False)
    h.app.stores.patients.add(Patient(patient_id=PID, name="Link Person"))
    return h


def test_link_refuse_stale_and_unlink(harness: ApiHarness) -> None:
    url, nurse = f"/v1/patients/{PID}/wearable", harness.auth("nurse")
    bad = harness.client.put(url, headers=nurse, json={"ultrahuman_email": "not an address", "version": 1})
    assert bad.status_code == 422 and "name@example.com" in str(bad.json()["detail"])
    ok = harness.client.put(url, headers=nurse, json={"ultrahuman_email": "Link@Example.ORG", "version": 1})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"patient_id": PID, "ultrahuman_email": "Link@example.org", "version": 2}
    stale = harness.client.put(url, headers=nurse, json={"ultrahuman_email": None, "version": 1})
    assert stale.status_code == 409
    gone = harness.client.put(url, headers=nurse, json={"ultrahuman_email": None, "version": 2})
    assert gone.status_code == 200 and gone.json()["ultrahuman_email"] is None
    assert (
        harness.client.put(
            "/v1/patients/PAT_00000000/wearable", headers=nurse, json={"ultrahuman_email": None, "version": 1}
        ).status_code
        == 404
    )
    trail = [(e.actor, e.action) for e in harness.app.stores.audit.query(patient_id=PID, limit=10).items]
    assert trail.count(("nurse", "patient.wearable_link")) == 2
