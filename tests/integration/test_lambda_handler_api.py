"""The Lambda handler over the real REST API: API Gateway HTTP API events in, the app's responses out.

The function's settings come from its environment (as in infra/api-lambda.yaml); here they point at a SQLite data
dir prepared beforehand with the demo accounts and a doctor's token, so the handler's own App reads the same data.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from backend.api import lambda_handler
from backend.bootstrap import build_app
from backend.config import Settings
from backend.services import api_tokens
from backend.services.demo import seed_demo

LOCAL = {"store": "sqlite", "blobs": "local", "queue": "sqlite", "llm": "offline"}


def _event(
    method: str, path: str, token: str = "", body: dict[str, Any] | None = None, query: str = ""
) -> dict[str, Any]:
    headers = {"host": "abc123.execute-api.ap-south-1.amazonaws.com", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": headers["host"],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": f"r-{method}-{path}",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_700_000_000_000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        # API Gateway may base64 the body; the handler must read it either way.
        headers["content-type"] = "application/json"
        event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
        event["isBase64Encoded"] = True
    return event


@pytest.fixture(scope="module")
def doctor_token(tmp_path_factory: pytest.TempPathFactory) -> str:
    data_dir: Path = tmp_path_factory.mktemp("lambda-api")
    prepared = build_app(Settings(data_dir=data_dir, store="sqlite", blobs="local", queue="sqlite", llm="offline"))
    seed_demo(prepared.stores, days=30)
    token = api_tokens.create_token(prepared.stores, None, "doctor", days=1).token
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COPILOT_DATA_DIR", str(data_dir))
        for name, value in LOCAL.items():
            env.setenv(f"COPILOT_{name.upper()}", value)
        # The first event builds the handler's App from this environment; later events reuse it.
        first = lambda_handler.handler(_event("GET", "/v1/health"), None)
    assert first["statusCode"] == 200, first
    assert json.loads(first["body"]) == {"status": "ok"}
    return token


def test_no_token_is_refused(doctor_token: str) -> None:
    reply = lambda_handler.handler(_event("GET", "/v1/patients"), None)
    assert reply["statusCode"] == 401


def test_a_doctor_registers_and_finds_a_patient(doctor_token: str) -> None:
    created = lambda_handler.handler(
        _event("POST", "/v1/patients", doctor_token, body={"name": "Lambda Tester", "phone": "+91 98765 43210"}), None
    )
    assert created["statusCode"] == 201, created["body"]
    patient_id = json.loads(created["body"])["patient_id"]

    found = lambda_handler.handler(_event("GET", "/v1/patients", doctor_token, query="q=Lambda"), None)
    assert found["statusCode"] == 200
    assert patient_id in [p["patient_id"] for p in json.loads(found["body"])["items"]]


def test_the_openapi_schema_is_served(doctor_token: str) -> None:
    reply = lambda_handler.handler(_event("GET", "/openapi.json"), None)
    assert reply["statusCode"] == 200
    assert "/v1/patients" in json.loads(reply["body"])["paths"]
