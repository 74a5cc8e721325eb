"""The native JSON API: /api/search, /api/records/<id>, /health, and its OpenAPI document
(/api/openapi.json, browsable at /api/docs). Responses go out through the marshmallow
schemas the document is generated from (`schemas.py`)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from mappings.access import Visibility, tombstone_disclosable, visibility
from mappings.record import Record, iso, to_dict

from ..context import current_gateway
from ..errors import Gone, NotFound, error_response
from ..index import FacetValue, IndexOutdated, IndexUnavailable, QueryError, Result
from ..search import run_search
from . import openapi
from .params import search_query
from .schemas import HealthResponse, SearchResponse

bp = Blueprint("api", __name__)


@bp.errorhandler(QueryError)
def _query_error(exc: QueryError) -> Any:
    return error_response(400, "bad_request", str(exc),
                          {"parameter": exc.parameter} if exc.parameter else None)


@bp.get("/api/search")
def search() -> Any:
    gw = current_gateway()
    query = search_query(request.args, default_size=gw.config.page_size,
                         max_size=gw.config.max_page_size)
    return jsonify(SearchResponse().dump(_search_body(*run_search(gw, query))))


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under the configured base_url (never the client's Host header)."""
    return current_gateway().config.public_url + url_for(endpoint, **values)


def _search_body(result: Result, records: dict[str, Record]) -> dict[str, Any]:
    hits = [{"id": h.id, "score": h.score, "url": public_url("api.record", record_id=h.id),
             "record": to_dict(records[h.id])}
            for h in result.hits if h.id in records]
    body: dict[str, Any] = {"total": result.total, "hits": hits,
                            "facets": {k: [_facet(v) for v in vs]
                                       for k, vs in result.facets.items()},
                            "next_cursor": result.next_cursor}
    if result.next_cursor:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [result.next_cursor]
        body["next"] = public_url("api.search", **args)
    return body


def _facet(v: FacetValue) -> dict[str, Any]:
    out: dict[str, Any] = {"value": v.value, "count": v.count}
    if v.label is not None:
        out["label"] = v.label
    return out


@bp.get("/api/records/<path:record_id>")
def record(record_id: str) -> Any:
    gw = current_gateway()
    found, now = gw.store.get(record_id), gw.clock()
    if found is not None and tombstone_disclosable(found, now):
        raise Gone(f"record {record_id!r} was deleted", deleted_at=iso(found.deleted_at))
    if found is None or visibility(found, now) is not Visibility.PUBLIC:
        raise NotFound(f"no public record {record_id!r}")  # embargoed looks like unknown
    return jsonify(to_dict(found))


@bp.get("/health")
def health() -> Any:
    """Liveness for load balancers: `ok`, `catching_up` (the index is behind the store), or
    with 503 (searches fail; the store still serves records by id) `index_unavailable` or
    `index_outdated` (built by an older index schema: `fairgate reindex`). With 200,
    `index_ahead_of_store` (the store was restored or recreated: searches answer, but the
    index no longer follows the store until `fairgate reindex`). `rejected_documents`,
    when not 0, counts records the index refused (logged by id; see the logs).
    No record counts: they would include embargoed records (operators have `fairgate
    status`)."""
    gw = current_gateway()
    try:
        index_seq, rejected = gw.index.last_seq(), gw.index.rejected()
    except IndexOutdated:
        return _health({"status": "index_outdated", "action": "run `fairgate reindex`"}), 503
    except IndexUnavailable:
        return _health({"status": "index_unavailable"}), 503
    lag = gw.store.last_seq() - index_seq
    body: dict[str, Any] = {"status": "ok" if lag == 0 else "catching_up"}
    if lag < 0:
        body = {"status": "index_ahead_of_store", "action": "run `fairgate reindex`"}
    if rejected:
        body["rejected_documents"] = rejected
    return _health(body)


def _health(body: dict[str, Any]) -> Response:
    return jsonify(HealthResponse().dump(body))


def _document() -> dict[str, Any]:
    c = current_gateway().config
    return openapi.build(c.public_url, title=c.repository_name, max_page_size=c.max_page_size)


@bp.get("/api/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 document of this API, for this gateway's base URL."""
    return jsonify(_document())


@bp.get("/api/docs")
def docs() -> Any:
    """The OpenAPI document as a self-contained web page."""
    html = openapi.render(_document(), public_url("api.openapi_json"))
    return Response(html, mimetype="text/html")
