"""Domain errors carry their own status; one handler renders every error as RFC 9457 problem+json."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "urn:hotline:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


class IllegalTransition(DomainError):
    status, slug, title = 409, "illegal-transition", "This action is not allowed in the ticket's state"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflicting change"


class ConcurrentUpdate(DomainError):
    status, slug, title = 409, "concurrent-update", "The ticket was changed by someone else meanwhile"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "The ticket has changed since you read it"


class InvalidInput(DomainError):
    status, slug, title = 422, "invalid-input", "The request cannot be processed as given"


class UnknownReference(DomainError):
    status, slug, title = 422, "unknown-reference", "The request names something that does not exist"


class IdempotencyMismatch(DomainError):
    status, slug, title = 422, "idempotency-key-reused", "This Idempotency-Key was used with another request"


def problem(status: int, slug: str, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    body["instance"] = instance
    body.update(jsonable_encoder(extra))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem(exc.status, exc.slug, exc.title, exc.detail, request.url.path, **exc.extra)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(
            422,
            "validation-error",
            "The request is malformed",
            "Some fields are missing or have the wrong form; see errors.",
            request.url.path,
            errors=_validation_detail(exc),
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _HTTP_SLUGS.get(exc.status_code, f"http-{exc.status_code}")
        title = str(exc.detail) if exc.detail else "HTTP error"
        return problem(exc.status_code, slug, title, title, request.url.path)

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            409,
            "conflict",
            "Conflicting change",
            "The change conflicts with data already stored (a duplicate code or a missing reference).",
            request.url.path,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "Internal error", "The error was logged.", request.url.path)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(Exception, on_unexpected)
