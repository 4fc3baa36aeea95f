"""Domain errors -> HTTP: every expected failure leaves as a status code and a sentence, never a stack trace."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from backend.api.ratelimit import RateLimited, retry_after_header
from backend.api.schemas import ErrorBody
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

# Most specific first: SignedNoteImmutable and UnsupportedInput are ValidationFailed too.
STATUS: tuple[tuple[type[CopilotError], int], ...] = (
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (SignedNoteImmutable, 409),
    (ConcurrentUpdate, 409),
    (AlreadyExists, 409),
    (UnsupportedInput, 415),
    (ValidationFailed, 422),
    (StoreUnavailable, 503),
    (ProviderUnavailable, 503),
)

# Documented on every route, so clients (and the schema checks) know each refusal's body.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "The body could not be parsed (not JSON, or a broken form)"},
    401: {"model": ErrorBody, "description": "No token, or an invalid, expired or revoked one"},
    403: {"model": ErrorBody, "description": "The account's role may not do this"},
    404: {"model": ErrorBody, "description": "No such record"},
    409: {"model": ErrorBody, "description": "Changed by someone else meanwhile (reload), or signed"},
    429: {"model": ErrorBody, "description": "Too many requests: wait Retry-After seconds"},
    503: {"model": ErrorBody, "description": "A store or engine is unreachable: try again later"},
}


def status_of(error: CopilotError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A refusal; 422s carry FastAPI's own list shape, so every 422 of the API looks the same."""
    if status == 422:
        body: object = {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}
    else:
        body = {"detail": message}
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handler that turns every domain error into its response."""

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, CopilotError):  # registered for CopilotError only
            raise exc
        if isinstance(exc, RateLimited):
            return error_response(429, exc.message, {"Retry-After": retry_after_header(exc.retry_after)})
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(status, exc.message, headers)

    app.add_exception_handler(CopilotError, on_domain_error)

    async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own handler echoes each refused value ("input", "ctx"): a note's text or a patient's name
        # would come back in the error body and in any log or proxy that keeps error bodies.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")} for e in errors
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    app.add_exception_handler(RequestValidationError, on_invalid_request)
