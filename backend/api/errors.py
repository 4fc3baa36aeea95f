"""Every refusal leaves as one shape: RFC 9457 problem details (``application/problem+json``) with a stable ``code``.

Domain errors, FastAPI's request validation, Starlette's own refusals (unknown route, wrong method, body too
large) and the API's own preconditions (:class:`ApiProblem`: stale ``If-Match``, a reused ``Idempotency-Key``)
all go through :func:`problem_response`, so a client needs one parser and branches on ``code``.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.api.ratelimit import RateLimited, retry_after_header
from backend.api.schemas import FieldProblem, Problem
from backend.domain.errors import (
    AlreadyExists,
    AuthenticationFailed,
    ConcurrentUpdate,
    CopilotError,
    NotFound,
    PermissionDenied,
    ProviderUnavailable,
    SignedNoteImmutable,
    StoreUnavailable,
    UnsupportedInput,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"

# Most specific first: SignedNoteImmutable and UnsupportedInput are ValidationFailed too.
STATUS: tuple[tuple[type[CopilotError], int, str], ...] = (
    (RateLimited, 429, "rate_limited"),
    (AuthenticationFailed, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (SignedNoteImmutable, 409, "note_signed"),
    (ConcurrentUpdate, 409, "version_conflict"),
    (AlreadyExists, 409, "already_exists"),
    (UnsupportedInput, 415, "unsupported_media_type"),
    (ValidationFailed, 422, "invalid_input"),
    (StoreUnavailable, 503, "store_unavailable"),
    (ProviderUnavailable, 503, "provider_unavailable"),
)
# Refusals raised by the framework itself, by status.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}

# Documented on every route, so clients (and the schema checks) know each refusal's body.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "The body could not be parsed (a broken form); code bad_request"},
    401: {"model": Problem, "description": "No token, or an invalid, expired or revoked one; code unauthenticated"},
    403: {"model": Problem, "description": "The account's role may not do this; code forbidden"},
    404: {"model": Problem, "description": "No such record (or route); code not_found"},
    409: {
        "model": Problem,
        "description": "Changed by someone else meanwhile (version_conflict: reload), signed (note_signed), "
        "a duplicate (already_exists), or the same Idempotency-Key still running (idempotency_in_progress)",
    },
    422: {
        "model": Problem,
        "description": "A field is invalid (invalid_request, with ``errors``; invalid_input) or an "
        "Idempotency-Key was reused for a different request (idempotency_key_reused)",
    },
    429: {"model": Problem, "description": "Too many requests: wait Retry-After seconds; code rate_limited"},
    503: {"model": Problem, "description": "A store or engine is unreachable: try again later"},
}


class ApiProblem(Exception):
    """A refusal of the API layer itself (not a domain rule): a precondition, an idempotency conflict."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def classify(error: CopilotError) -> tuple[int, str]:
    """The HTTP status and stable code of a domain error (400 ``bad_request`` for an unlisted kind)."""
    return next(((status, code) for kind, status, code in STATUS if isinstance(error, kind)), (400, "bad_request"))


def status_of(error: CopilotError) -> int:
    return classify(error)[0]


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[FieldProblem] | None = None,
) -> JSONResponse:
    """The one refusal shape (see the module docstring)."""
    problem = Problem(
        type=f"urn:copilot:problem:{code}",
        title=_title(status),
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=errors,
    )
    content = problem.model_dump(mode="json", exclude_none=True)
    return JSONResponse(status_code=status, content=content, headers=headers, media_type=PROBLEM_JSON)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A refusal with the framework code of ``status`` (for callers outside a request handler)."""
    return problem_response(status, HTTP_CODES.get(status, _slug(status)), message, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every refusal into problem details."""

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, CopilotError):  # registered for CopilotError only
            raise exc
        status, code = classify(exc)
        headers: dict[str, str] | None = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": retry_after_header(exc.retry_after)}
        elif status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        # Every 422 carries ``errors``, whether FastAPI or a domain rule refused the field.
        fields = [FieldProblem(loc=["body"], msg=exc.message, type="value_error")] if status == 422 else None
        return problem_response(status, code, exc.message, instance=request.url.path, headers=headers, errors=fields)

    async def on_api_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)  # registered for ApiProblem only
        return problem_response(exc.status, exc.code, exc.detail, instance=request.url.path, headers=exc.headers)

    async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own handler echoes each refused value ("input", "ctx"): a note's text or a patient's name
        # would come back in the error body and in any log or proxy that keeps error bodies.
        found = exc.errors() if isinstance(exc, RequestValidationError) else []
        fields = [
            FieldProblem(loc=list(e.get("loc", ())), msg=str(e.get("msg", "")), type=str(e.get("type", "")))
            for e in found
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in f.loc[1:]) or f.loc[0]}: {f.msg}" for f in fields[:5])
        detail = f"The request is invalid ({summary}): fix the fields listed in errors." if summary else "Invalid."
        return problem_response(422, "invalid_request", detail, instance=request.url.path, errors=fields)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # registered for HTTPException only
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else _title(status)
        code = HTTP_CODES.get(status, _slug(status))
        return problem_response(
            status, code, detail, instance=request.url.path, headers=dict(exc.headers or {}) or None
        )

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        # A bug: the client learns only that it happened (the trace goes to the server's log, re-raised by
        # Starlette after this response), never a stack trace or a record's content.
        detail = "Something went wrong on the server; it has been logged. Try again, or report the time."
        return problem_response(500, "internal_error", detail, instance=request.url.path)

    app.add_exception_handler(CopilotError, on_domain_error)
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_bug)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _slug(status: int) -> str:
    return _title(status).lower().replace(" ", "_").replace("-", "_")
