"""One JSON error shape for every API error (documented in docs/api.md):

    {"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}

`details` is present only when there is more to say (e.g. the offending parameter).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from .index import IndexUnavailable


class APIError(Exception):
    """Base of API errors; subclasses set `status` and `code`."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}


class BadRequest(APIError):
    pass


class NotFound(APIError):
    status, code = 404, "not_found"


class Gone(APIError):
    status, code = 410, "gone"


class ServiceUnavailable(APIError):
    """A backend the request needs (the search index) is down; the client may retry."""

    status, code = 503, "service_unavailable"
    retry_after = 30  # seconds, sent as Retry-After


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify(error=body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, ServiceUnavailable):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(IndexUnavailable)
    def _index_unavailable(exc: IndexUnavailable) -> Response:
        app.logger.warning("search index unavailable: %s", exc)
        return _api_error(ServiceUnavailable("the search index is unavailable; "
                                             "try again later"))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return error_response(500, "internal_server_error", "internal server error")
