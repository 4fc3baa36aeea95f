"""The OpenAPI document as an integrator reads it: tag descriptions, and refusals as ``application/problem+json``.

FastAPI files every documented response under ``application/json``; the API sends refusals as problem details
(RFC 9457), so each 4xx/5xx response of the generated schema is moved to that media type, with an example.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.api.errors import PROBLEM_JSON

TAGS: list[dict[str, str]] = [
    {"name": "patients", "description": "Register, find (cursor pages), read and edit patients."},
    {"name": "recordings", "description": "Upload a consultation's audio: a scribe job (202), then poll it."},
    {"name": "uploads", "description": "Direct uploads: a signed form to send the file to storage, no API hop."},
    {"name": "jobs", "description": "A job's progress: queued → transcribing → drafting → ready_for_review."},
    {
        "name": "notes",
        "description": "Read, edit (If-Match / version), sign and amend notes; signed notes never change.",
    },
    {"name": "documents", "description": "A prescription's photo or PDF: read (a job), then confirm its list."},
    {"name": "metrics", "description": "Wearable and health data: import a file, read daily values."},
    {"name": "wearables", "description": "Link a patient to a wearable account for the daily sync."},
    {"name": "timeline", "description": "A patient's notes, medication lists, documents and anomalies in one place."},
    {"name": "ask", "description": "Questions about one patient's records, answered with citations."},
    {"name": "fhir", "description": "The patient's record as a FHIR R4 Bundle."},
    {"name": "events", "description": "Server-sent events about the caller's patients."},
    {"name": "health", "description": "Liveness (no token)."},
]

_EXAMPLES: dict[str, tuple[str, str]] = {
    "400": ("bad_request", "The form could not be parsed: send multipart/form-data with a field named file."),
    "401": ("unauthenticated", "Send a token: Authorization: Bearer TOKEN."),
    "403": ("forbidden", "Your role (nurse) may not sign notes."),
    "404": ("not_found", "No patient PAT_00000000."),
    "409": ("version_conflict", "This note was changed by someone else meanwhile: reload it and apply your edit."),
    "412": ("precondition_failed", 'If-Match "3" is not the note\'s current ETag "4": read it again.'),
    "413": ("too_large", "The file is over 200 MB, the limit for recordings: split or compress it."),
    "415": ("unsupported_media_type", "This is not an audio file (or it is damaged)."),
    "422": ("invalid_request", "The request is invalid (phone: value is not a phone number): fix the fields."),
    "428": ("precondition_required", "Send If-Match with the ETag you read."),
    "429": ("rate_limited", "Too many requests: wait 2 seconds."),
    "503": ("store_unavailable", "The record store is unreachable: try again later."),
}


def install(api: FastAPI) -> None:
    """Replace ``api.openapi`` with one that builds the document once, rewritten as described above."""

    def build() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(
                title=api.title,
                version=api.version,
                description=api.description,
                routes=api.routes,
                tags=TAGS,
            )
            _problems_as_problem_json(schema)
            api.openapi_schema = schema
        return api.openapi_schema

    setattr(api, "openapi", build)  # noqa: B010 - FastAPI's documented way to customise the schema


def _problems_as_problem_json(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                _rewrite_responses(operation.get("responses", {}))


def _rewrite_responses(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        content = response.get("content")
        if not status.isdigit() or int(status) < 400 or not content or "application/json" not in content:
            continue
        media = content.pop("application/json")
        code, detail = _EXAMPLES.get(status, ("error", "See detail."))
        media.setdefault(
            "example",
            {
                "type": f"urn:copilot:problem:{code}",
                "title": HTTPStatus(int(status)).phrase,
                "status": int(status),
                "detail": detail,
                "code": code,
            },
        )
        content[PROBLEM_JSON] = media
