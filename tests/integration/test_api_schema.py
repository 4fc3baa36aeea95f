"""Schemathesis over the OpenAPI schema: generated requests never get a 5xx, and every response matches its
documented status, content type and schema. Bounded (a few examples per operation) and seeded."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.api_client import ApiHarness, api_harness

_HARNESS: dict[str, ApiHarness] = {}


def _harness() -> ApiHarness:
    # Built on first use (the schema is read at collection time; the data dir is created then too).
    if "h" not in _HARNESS:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="api-schema-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # pytest's tmp_path does not exist yet here
        _HARNESS["h"] = api_harness(Path(folder))
    return _HARNESS["h"]


# /v1/events never ends (a live stream): tests/integration/test_api_events.py reads it over real HTTP.
schema = schemathesis.openapi.from_asgi("/openapi.json", _harness().api).exclude(path="/v1/events")
# Examples and generated requests; the coverage phase (every boundary of every field) would run for minutes.
schema.config.phases.update(phases=["examples", "fuzzing"])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,  # the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    harness = _harness()
    case.call_and_validate(headers=harness.auth("doctor"), checks=CHECKS)
