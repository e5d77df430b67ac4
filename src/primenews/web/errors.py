"""One error shape for the JSON API, an error page for everything else.

Under ``/api`` every error — unknown route, unknown article, wrong method,
invalid query or body, bad cursor, unexpected failure — answers::

    {"ok": false, "status": 404, "error": "No article with id 7", "errors": []}

with ``errors`` listing the individual problems of a validation failure.
Other paths render ``error.html`` with the same status. tests/web/test_error_shape.py
pins the shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

API_PREFIX = "/api"


class ErrorDetail(BaseModel):
    """One problem with a request: where it is and what is wrong."""

    loc: list[str | int] = Field(description="Where: e.g. ['query', 'limit'] or ['body', 'url']")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error answer under /api."""

    ok: Literal[False] = False
    status: int
    error: str
    errors: list[ErrorDetail] = Field(default_factory=list)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad request (e.g. an invalid cursor)"},
    404: {"model": ErrorBody, "description": "Not found"},
    422: {"model": ErrorBody, "description": "Invalid query or body"},
    500: {"model": ErrorBody, "description": "Unexpected server error"},
}


def is_api_path(path: str) -> bool:
    """True for paths whose errors answer in JSON."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def error_response(
    request: Request,
    status: int,
    message: str,
    details: Sequence[ErrorDetail] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as JSON under /api, as the HTML error page elsewhere."""
    if is_api_path(request.url.path):
        body = ErrorBody(status=status, error=message, errors=list(details))
        return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": _phrase(status), "message": message},
        status_code=status,
        headers=headers,
    )
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
    return error_response(request, exc.status_code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        ErrorDetail(
            loc=[part for part in error.get("loc", ()) if isinstance(part, str | int)],
            msg=str(error.get("msg", "")),
            type=str(error.get("type", "")),
        )
        for error in exc.errors()
    ]
    summary = "; ".join(f"{_where(detail.loc)}: {detail.msg}" for detail in details)
    return error_response(request, 422, f"Invalid request: {summary}", details)


def _where(loc: Sequence[str | int]) -> str:
    # Drop the "query"/"body"/"path" part: "limit", "url" read better in a sentence.
    parts = loc[1:] if len(loc) > 1 else loc
    return ".".join(str(part) for part in parts)


def install_error_handlers(app: FastAPI) -> None:
    """Route HTTP and validation errors, and unexpected failures, through ``error_response``."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(InternalErrorMiddleware)


class InternalErrorMiddleware:
    """Turn an unexpected exception into a 500 in our error shape, after logging it.

    Starlette's own last-resort handler sits outside every middleware, so its
    answer would miss the security headers and bypass our error shape; this
    one sits inside them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            logger.exception(
                "Unhandled error on %s %s",
                scope.get("method"),
                scope.get("path"),
                extra={"path": scope.get("path")},
            )
            if started:  # too late for an error page: let the server drop the connection
                raise
            request = Request(scope)
            response = error_response(request, 500, "Internal server error")
            await response(scope, receive, send)
