"""The REST API's Lambda entry point: secrets resolved from their ARNs, an HTTP API event through Mangum."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from fastapi import FastAPI
from moto import mock_aws

from backend.api import lambda_handler
from backend.api.lambda_handler import make_handler, resolve_secrets, secrets_manager_fetch
from tests.conftest import ROOT


def _http_api_event(method: str, path: str, query: str = "") -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the service sends it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "abc123.execute-api.ap-south-1.amazonaws.com", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.ap-south-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "r-1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_700_000_000_000,
        },
        "isBase64Encoded": False,
    }


def test_secret_arns_fill_their_variables_and_leave_set_ones_alone() -> None:
    secrets = {"arn:gemini": "g-key", "arn:openai": "o-key"}
    env = {
        "COPILOT_GEMINI_API_KEY_SECRET_ARN": "arn:gemini",
        "COPILOT_OPENAI_API_KEY_SECRET_ARN": "arn:openai",
        "COPILOT_OPENAI_API_KEY": "already-set",
        "COPILOT_EMPTY_SECRET_ARN": "",
        "COPILOT_TABLE_PREFIX": "prod-",
    }
    fetched: list[str] = []

    def fetch(arn: str) -> str:
        fetched.append(arn)
        return secrets[arn]

    assert resolve_secrets(env, fetch) == ["COPILOT_GEMINI_API_KEY"]
    assert env["COPILOT_GEMINI_API_KEY"] == "g-key"
    assert env["COPILOT_OPENAI_API_KEY"] == "already-set"  # an explicit value wins; its secret is not read
    assert fetched == ["arn:gemini"]
    assert "COPILOT_EMPTY" not in env


def test_secrets_manager_fetch_reads_the_secret_string(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="ap-south-1")
        arn = client.create_secret(Name="copilot/gemini", SecretString="g-key-123")["ARN"]
        env = {"COPILOT_GEMINI_API_KEY_SECRET_ARN": arn}
        assert resolve_secrets(env, secrets_manager_fetch(client)) == ["COPILOT_GEMINI_API_KEY"]
    assert env["COPILOT_GEMINI_API_KEY"] == "g-key-123"


def test_an_http_api_event_reaches_the_app_once_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    builds: list[int] = []

    def build() -> FastAPI:
        builds.append(1)
        app = FastAPI()

        @app.get("/v1/echo")
        def echo(q: str = "") -> dict[str, str]:
            return {"q": q}

        return app

    handle = make_handler(build)
    assert builds == []  # nothing is built at import or wiring time
    first = handle(_http_api_event("GET", "/v1/echo", "q=bp"), None)
    second = handle(_http_api_event("GET", "/v1/missing"), None)

    assert first["statusCode"] == 200
    assert json.loads(first["body"]) == {"q": "bp"}
    assert first["headers"]["content-type"] == "application/json"
    assert second["statusCode"] == 404
    assert builds == [1]  # one app per sandbox, reused across events


def test_the_module_handler_is_the_api_wiring() -> None:
    # The function's image command names this attribute (infra/api-lambda.yaml): it must stay a callable here.
    assert callable(lambda_handler.handler)
    assert "backend.api.lambda_handler.handler" in (ROOT / "infra" / "api-lambda.yaml").read_text()
