"""The PaNOSC Search API endpoints (`/api/Datasets`, `/api/Documents`, `/api/Instruments`,
lower case too) with LoopBack's error envelope:

    {"error": {"statusCode": 400, "name": "Error", "message": "...", "code": "INVALID_FILTER"}}
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ..context import current_gateway
from .engine import NotFound, count, files, find, find_by_id, model_name
from .errors import loopback_error
from .filters import FilterError, parse_filter

bp = Blueprint("panosc", __name__, url_prefix="/api")
COLLECTION = "<any(Datasets, datasets, Documents, documents, Instruments, instruments):collection>"


@bp.errorhandler(FilterError)
def _bad_filter(exc: FilterError) -> Response:
    return loopback_error(400, str(exc), "INVALID_FILTER")


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return loopback_error(404, str(exc), "MODEL_NOT_FOUND")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return loopback_error(exc.code or 500, exc.description or exc.name,
                          (exc.name or "Error").upper().replace(" ", "_"))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    """A bug, not the client's fault: logged with its traceback, answered in LoopBack's
    shape (a PaNOSC client parses no other) without internals."""
    current_app.logger.exception("PaNOSC Search API: unhandled error")
    return loopback_error(500, "Internal Server Error", "INTERNAL_SERVER_ERROR")


def _filter() -> dict[str, Any]:
    return parse_filter(request.args.get("filter"))


@bp.get(f"/{COLLECTION}")
def search(collection: str) -> Response:
    return jsonify(find(current_gateway(), collection, _filter(), query=request.args.get("query")))


@bp.get(f"/{COLLECTION}/count")
def count_items(collection: str) -> Response:
    return jsonify(count=count(current_gateway(), collection, parse_filter(request.args.get("where"))))


@bp.get(f"/{COLLECTION}/<path:pid>")
def one(collection: str, pid: str) -> Response:
    """One item by its pid (URL-encoded: `20.500.12269%2Fpanosc-dataset1`), or a dataset's
    files (`/files`, `/files/count`): a pid ending that way wins only if no dataset with
    the shorter pid exists."""
    gw, model = current_gateway(), model_name(collection)
    for suffix, counting in (("/files/count", True), ("/files", False)):
        if model == "Dataset" and pid.endswith(suffix):
            try:
                if counting:
                    return jsonify(count=files(gw, pid[:-len(suffix)],
                                               parse_filter(request.args.get("where")),
                                               count_only=True))
                return jsonify(files(gw, pid[:-len(suffix)], _filter()))
            except NotFound:
                break
    found = find_by_id(gw, collection, pid, _filter())
    if found is None:
        raise NotFound(model, pid)
    return jsonify(found)
