"""Rate limits per token over HTTP, on a clock the test moves: bursts, 429 with Retry-After, refill, isolation."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.api_client import api_harness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_over_its_rate_waits_retry_after_and_others_go_on(tmp_path: Path) -> None:
    clock = Clock()
    h = api_harness(tmp_path, clock=clock, api_rate_per_minute=60, demo=False)  # 1 a second, bursts of 12
    nurse, doctor = h.auth("nurse"), h.auth("doctor")
    statuses = [h.client.get("/v1/patients", headers=nurse).status_code for _ in range(12)]
    assert statuses == [200] * 12
    refused = h.client.get("/v1/patients", headers=nurse)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "Too many requests" in refused.json()["detail"]
    assert h.client.get("/v1/patients", headers=doctor).status_code == 200  # each token has its own bucket
    clock.now += 1.0
    assert h.client.get("/v1/patients", headers=nurse).status_code == 200
    assert h.client.get("/v1/patients", headers=nurse).status_code == 429
    clock.now += 60.0  # a full minute refills the burst, no more
    assert [h.client.get("/v1/patients", headers=nurse).status_code for _ in range(13)] == [200] * 12 + [429]


def test_a_refused_request_did_nothing(tmp_path: Path) -> None:
    clock = Clock()
    h = api_harness(tmp_path, clock=clock, api_rate_per_minute=5, demo=False)  # bursts of 1
    nurse = h.auth("nurse")
    assert h.client.post("/v1/patients", json={"name": "First Person"}, headers=nurse).status_code == 201
    refused = h.client.post("/v1/patients", json={"name": "Second Person"}, headers=nurse)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "12"
    clock.now += 12.0
    names = [p["name"] for p in h.client.get("/v1/patients", params={"q": "Person"}, headers=nurse).json()["items"]]
    assert names == ["First Person"]
