"""The search page, `/` and `/search`: a query box, facets with counts, highlighted results
and paging, server-rendered (no JavaScript needed). It parses its query string and
searches exactly as /api/search does (`search_query`, `run_search`), so the page and the
API never disagree; facets are shown generically, whatever the index returns."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from mappings.record import Record

from ..api.params import search_query
from ..errors import BadRequest
from ..index import SORTS, IndexUnavailable, QueryError, Result
from ..index.textquery import terms
from ..search import run_search
from . import present
from ..context import current_gateway

bp = Blueprint("search_page", __name__)

FACET_SHOWN = 8  # values shown per facet before "more"
FACET_LABELS = {"facility": "Facility", "instrument": "Instrument", "technique": "Technique",
                "kind": "Type", "year": "Year", "access": "Access", "license": "Licence",
                "licence": "Licence"}
VALUE_LABELS = {"kind": {"dataset": "Dataset", "document": "Experiment"},
                "access": {"open": "Open access"}}
SORT_LABELS = {"relevance": "Relevance", "-date": "Newest first", "date": "Oldest first",
               "title": "Title (A-Z)", "-title": "Title (Z-A)"}


@bp.get("/")
@bp.get("/search")
def page() -> Response:
    gw = current_gateway()
    args = request.args
    try:
        query = search_query(args, default_size=gw.config.page_size,
                             max_size=gw.config.max_page_size)
        result, records = run_search(gw, query)
    except (BadRequest, QueryError) as exc:
        return _render(args, error=str(exc), status=400)
    except IndexUnavailable:
        return _render(args, error="The search index is unavailable; please try again later.",
                       status=503)
    return _render(args, result=result, records=records)


def _render(args: MultiDict[str, str], *, result: Result | None = None,
            records: dict[str, Record] | None = None, error: str | None = None,
            status: int = 200) -> Response:
    gw = current_gateway()
    context = gw.render_context()
    q = args.get("q", "")
    view: dict[str, Any] = {
        "q": q, "error": error, "sort": args.get("sort", "relevance"),
        "sorts": [(s, SORT_LABELS.get(s, s)) for s in SORTS],
        "hidden": [(k, v) for k, vs in args.lists() if k not in ("q", "sort", "cursor")
                   for v in vs],
    }
    if result is not None and records is not None:
        marks = terms(q)
        view |= {
            "total": result.total,
            "hits": [_hit(records[h.id], context, marks) for h in result.hits if h.id in records],
            "facets": [_facet(name, values, args) for name, values in result.facets.items()
                       if values or args.getlist(name)],
            "next": _url(args, cursor=result.next_cursor) if result.next_cursor else None,
            "first": _url(args, cursor=None) if args.get("cursor") else None,
        }
    return Response(render_template("search.html", **view), status=status, mimetype="text/html")


def _hit(record: Record, context: Any, marks: list[tuple[list[str], bool]]) -> dict[str, Any]:
    d = record.dates
    when = d.collected_start or d.created
    return {"url": context.landing_url(record), "title": present.highlight(record.title, marks),
            "snippet": present.highlight(present.snippet(record.description), marks),
            "kind": VALUE_LABELS["kind"].get(record.kind, record.kind),
            "facility": record.facility.name if record.facility else None,
            "instrument": record.instrument.name if record.instrument else None,
            "techniques": [t.label for t in record.techniques],
            "date": present.date(when)}


def _facet(name: str, values: list[Any], args: MultiDict[str, str]) -> dict[str, Any]:
    chosen = args.getlist(name)
    items = []
    for v in values:
        selected = v.value in chosen
        rest = [c for c in chosen if c != v.value] if selected else [*chosen, v.value]
        items.append({"value": v.value, "count": v.count, "selected": selected,
                      "label": v.label or VALUE_LABELS.get(name, {}).get(v.value, v.value),
                      "href": _url(args, cursor=None, **{name: rest})})
    items.sort(key=lambda i: not i["selected"])  # chosen values first, then by count
    return {"name": name, "label": FACET_LABELS.get(name, name.replace("_", " ").capitalize()),
            "shown": items[:FACET_SHOWN], "more": items[FACET_SHOWN:]}


def _url(args: MultiDict[str, str], **changes: Any) -> str:
    """This page's URL with some parameters replaced (None or [] removes one)."""
    merged = MultiDict(args)
    for key, value in changes.items():
        merged.setlist(key, [] if value is None else value if isinstance(value, list)
                       else [value])
    query = urlencode([(k, v) for k, vs in merged.lists() for v in vs if v != ""])
    return f"{request.path}?{query}" if query else request.path
